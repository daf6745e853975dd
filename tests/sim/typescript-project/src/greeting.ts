export interface Greeting {
  text: string;
  length: number;
}

export function greet(name: string, path: string): Greeting {
  const text: string = `Hello ${name} from ${path}`;
  return { text, length: text.length };
}
