#include "dolimits.h"

namespace roomscope::doerrors {

QString overloadedQueue()
{
    return QStringLiteral("Durable Object is overloaded. Too many requests queued.");
}

QString overloadedData()
{
    return QStringLiteral("Durable Object is overloaded. Too much data queued.");
}

QString overloadedWait()
{
    return QStringLiteral("Durable Object is overloaded. Requests queued for too long.");
}

QString overloadedWindow()
{
    return QStringLiteral(
            "Durable Object is overloaded. Too many requests for the same object within a 10 "
            "second window.");
}

QString codeUpdated()
{
    return QStringLiteral("Durable Object reset because its code was updated.");
}

QString storageNoLongerAccessible()
{
    return QStringLiteral("Durable Object storage is no longer accessible.");
}

QString storageWriteFailed(const QString &reference)
{
    return QStringLiteral(
                   "Internal error in Durable Object storage write caused object to be reset; "
                   "reference = %1")
            .arg(reference);
}

QString blockConcurrencyTimeout()
{
    return QStringLiteral(
            "A call to blockConcurrencyWhile() in a Durable Object waited for too long. The call "
            "was canceled and the Durable Object was reset.");
}

QString abortDefault()
{
    return QStringLiteral("Application called abort() to reset Durable Object.");
}

QString instanceGone()
{
    return QStringLiteral(
            "Connection closed: this Durable Object instance is no longer active. Reconnect or "
            "retry the request.");
}

QString alarmTimeNotPositive()
{
    return QStringLiteral("setAlarm() cannot be called with an alarm time <= 0");
}

QString alarmHandlerMissing()
{
    return QStringLiteral(
            "Your Durable Object class must have an alarm() handler in order to call setAlarm()");
}

QString acceptedViaAccept()
{
    return QStringLiteral(
            "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via "
            "`accept()`");
}

QString pairAlreadyUsed()
{
    return QStringLiteral(
            "Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been "
            "accepted or used in a Response.");
}

QString tooManySockets(int limit)
{
    return QStringLiteral("only %1 websockets can be accepted on a single Durable Object instance")
            .arg(limit);
}

Status checkTags(const QStringList &tags)
{
    // workerd counts array entries before it removes duplicates, so an 11th entry fails even
    // when it repeats an earlier tag.
    for (qsizetype i = 0; i < tags.size(); ++i) {
        if (i >= kMaxTags)
            return Error::error(QStringLiteral("a Hibernatable WebSocket cannot have more than %1 tags")
                                        .arg(kMaxTags));
        if (tags[i].size() > kMaxTagLength)
            return Error::error(
                    QStringLiteral("\"%1\" is longer than the max tag length (%2 characters).")
                            .arg(tags[i])
                            .arg(kMaxTagLength));
    }
    return Done {};
}

QString sendBeforeAccept()
{
    return QStringLiteral(
            "You must call one of accept() or state.acceptWebSocket() on this WebSocket before "
            "sending messages.");
}

QString sendAfterClose()
{
    return QStringLiteral("Can't call WebSocket send() after close().");
}

Status checkCloseCode(int code, const QString &reason, bool reasonByteLimit)
{
    const bool valid = code >= 1000 && code < 5000 && code != 1004 && code != 1005 && code != 1006
            && code != 1015;
    if (!valid)
        return Error { Error::Kind::InvalidAccessError,
                       QStringLiteral("Invalid WebSocket close code: %1.").arg(code) };
    if (reasonByteLimit && reason.toUtf8().size() > kMaxCloseReasonBytes)
        return Error { Error::Kind::DomSyntaxError,
                       QStringLiteral("WebSocket close reason must not be longer than 123 bytes "
                                      "when UTF-8 encoded.") };
    return Done {};
}

QString attachmentTooLarge(qsizetype bytes)
{
    return QStringLiteral(
                   "A WebSocket 'attachment' cannot be larger than %1 bytes.'attachment' was %2 "
                   "bytes.")
            .arg(kMaxAttachmentBytes)
            .arg(bytes);
}

Status checkAutoResponse(const QString &request, const QString &response)
{
    const qsizetype requestBytes = request.toUtf8().size();
    if (requestBytes > kMaxAutoResponseBytes)
        return Error::rangeError(QStringLiteral("Request cannot be larger than %1 bytes. A request "
                                                "of size %2 was provided.")
                                         .arg(kMaxAutoResponseBytes)
                                         .arg(requestBytes));
    const qsizetype responseBytes = response.toUtf8().size();
    if (responseBytes > kMaxAutoResponseBytes)
        return Error::rangeError(QStringLiteral("Response cannot be larger than %1 bytes. A "
                                                "response of size %2 was provided.")
                                         .arg(kMaxAutoResponseBytes)
                                         .arg(responseBytes));
    return Done {};
}

QString eventTimeoutTooLarge()
{
    return QStringLiteral("Event timeout should not exceed %1 ms.").arg(kMaxEventTimeoutMs);
}

QString messageTooLarge(qint64 size, qint64 limit)
{
    return QStringLiteral("Message is too large: %1 > %2").arg(size).arg(limit);
}

} // namespace roomscope::doerrors
