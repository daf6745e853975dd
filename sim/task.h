#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace roomscope {

/// A lazily started coroutine returning T. Awaiting a Task starts it and resumes the awaiter
/// when it finishes, by symmetric transfer. With optimization on, GCC turns that transfer into a
/// tail call so that long chains do not grow the stack; unoptimized builds do not guarantee it.
/// Behaviours are written as Tasks so that they read like the JavaScript they model:
/// `auto value = co_await kv.get(location, key);`.
///
/// Expected failures travel in Result values, so a Task never carries an exception; an
/// exception escaping a coroutine is a programmer error and terminates.
template<typename T>
class Task;

namespace detail {

struct PromiseBase
{
    std::coroutine_handle<> continuation;
    bool detached = false;

    std::suspend_always initial_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { std::terminate(); }

    struct FinalAwaiter
    {
        bool await_ready() noexcept { return false; }
        template<typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> handle) noexcept
        {
            PromiseBase &promise = handle.promise();
            if (promise.detached) {
                handle.destroy();
                return std::noop_coroutine();
            }
            if (promise.continuation)
                return promise.continuation;
            return std::noop_coroutine();
        }
        void await_resume() noexcept { }
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
};

} // namespace detail

template<typename T>
class [[nodiscard]] Task
{
public:
    struct promise_type : detail::PromiseBase
    {
        std::optional<T> value;
        Task get_return_object() { return Task(Handle::from_promise(*this)); }
        template<typename U>
        void return_value(U &&result) { value.emplace(std::forward<U>(result)); }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Task(Task &&other) noexcept : m_handle(std::exchange(other.m_handle, nullptr)) { }
    Task &operator=(Task &&other) noexcept
    {
        if (this != &other) {
            reset();
            m_handle = std::exchange(other.m_handle, nullptr);
        }
        return *this;
    }
    Task(const Task &) = delete;
    Task &operator=(const Task &) = delete;
    ~Task() { reset(); }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept
    {
        m_handle.promise().continuation = awaiter;
        return m_handle;
    }
    T await_resume() { return std::move(*m_handle.promise().value); }

    /// Gives up ownership: the coroutine destroys itself when it finishes.
    Handle release() { return std::exchange(m_handle, nullptr); }

private:
    explicit Task(Handle handle) : m_handle(handle) { }
    void reset()
    {
        if (m_handle)
            m_handle.destroy();
        m_handle = nullptr;
    }

    Handle m_handle;
};

template<>
class [[nodiscard]] Task<void>
{
public:
    struct promise_type : detail::PromiseBase
    {
        Task get_return_object() { return Task(Handle::from_promise(*this)); }
        void return_void() { }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Task(Task &&other) noexcept : m_handle(std::exchange(other.m_handle, nullptr)) { }
    Task(const Task &) = delete;
    Task &operator=(const Task &) = delete;
    ~Task()
    {
        if (m_handle)
            m_handle.destroy();
    }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept
    {
        m_handle.promise().continuation = awaiter;
        return m_handle;
    }
    void await_resume() { }

    Handle release() { return std::exchange(m_handle, nullptr); }

private:
    explicit Task(Handle handle) : m_handle(handle) { }
    Handle m_handle;
};

/// Starts a task now and lets it run to completion on its own, like an un-awaited promise.
/// It runs until its first suspension before spawn() returns.
inline void spawn(Task<void> task)
{
    auto handle = task.release();
    handle.promise().detached = true;
    handle.resume();
}

} // namespace roomscope
