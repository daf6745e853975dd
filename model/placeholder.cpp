namespace roomscope { }
