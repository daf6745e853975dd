#pragma once

#include <QString>

#include <utility>
#include <variant>

namespace roomscope {

/// An expected failure: the JavaScript error class the platform throws and its exact message.
struct Error
{
    /// The last two are DOMExceptions, named as their `name` property reads.
    enum class Kind {
        Error,
        TypeError,
        RangeError,
        SyntaxError,
        InvalidAccessError,
        DomSyntaxError,
        ReferenceError, ///< thrown by the user's JavaScript
    };

    Kind kind = Kind::Error;
    QString message;
    // Properties that the platform sets on errors from a Durable Object.
    bool remote = false; ///< thrown by the object's own code and passed on to the caller
    bool overloaded = false; ///< do not retry
    bool retryable = false; ///< safe to retry if the operation is idempotent
    bool durableObjectReset = false; ///< the object was reset by this error

    static Error error(QString message) { return { Kind::Error, std::move(message) }; }
    static Error typeError(QString message) { return { Kind::TypeError, std::move(message) }; }
    static Error rangeError(QString message) { return { Kind::RangeError, std::move(message) }; }

    /// The JavaScript constructor name: "Error", "TypeError", ...
    QString name() const;
    /// "TypeError: Key name cannot be empty." as JavaScript prints it.
    QString toString() const { return name() + QStringLiteral(": ") + message; }
    bool operator==(const Error &other) const = default;
};

/// Either a value or an Error. Expected failures travel in a Result and never as exceptions.
template<typename T>
class [[nodiscard]] Result
{
public:
    Result(T value) : m_data(std::move(value)) { }
    Result(Error error) : m_data(std::move(error)) { }

    bool ok() const { return std::holds_alternative<T>(m_data); }
    explicit operator bool() const { return ok(); }

    const T &value() const & { return std::get<T>(m_data); }
    T &value() & { return std::get<T>(m_data); }
    T &&value() && { return std::get<T>(std::move(m_data)); }
    const T &operator*() const & { return value(); }
    const T *operator->() const { return &value(); }

    const Error &error() const { return std::get<Error>(m_data); }

private:
    std::variant<T, Error> m_data;
};

/// A Result with no value.
struct Done
{
    bool operator==(const Done &) const = default;
};
using Status = Result<Done>;

inline QString Error::name() const
{
    switch (kind) {
    case Kind::TypeError:
        return QStringLiteral("TypeError");
    case Kind::RangeError:
        return QStringLiteral("RangeError");
    case Kind::SyntaxError:
    case Kind::DomSyntaxError:
        return QStringLiteral("SyntaxError");
    case Kind::InvalidAccessError:
        return QStringLiteral("InvalidAccessError");
    case Kind::ReferenceError:
        return QStringLiteral("ReferenceError");
    case Kind::Error:
        break;
    }
    return QStringLiteral("Error");
}

} // namespace roomscope
