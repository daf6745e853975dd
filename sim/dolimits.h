#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

namespace roomscope::doerrors {

// Error texts of the Durable Object runtime, word for word as workerd (the open-source Workers
// runtime, src/workerd/api and src/workerd/io) or the platform's troubleshooting page give them.

constexpr int kMaxTags = 10;
constexpr int kMaxTagLength = 256;
constexpr qsizetype kMaxAttachmentBytes = 16384;
constexpr qsizetype kMaxAutoResponseBytes = 2048;
constexpr qint64 kMaxEventTimeoutMs = 604'800'000;
constexpr qsizetype kMaxCloseReasonBytes = 123;

QString overloadedQueue();
QString overloadedData();
QString overloadedWait();
QString overloadedWindow();
QString codeUpdated();
QString storageNoLongerAccessible();
/// workerd appends a reference to the logged internal error; ours names the object and batch.
QString storageWriteFailed(const QString &reference);
QString blockConcurrencyTimeout();
QString abortDefault();
QString instanceGone();

QString alarmTimeNotPositive();
QString alarmHandlerMissing();

QString acceptedViaAccept();
QString pairAlreadyUsed();
QString tooManySockets(int limit);
Status checkTags(const QStringList &tags);
QString sendBeforeAccept();
QString sendAfterClose();
/// Checks the arguments of a server-side ws.close(code, reason).
Status checkCloseCode(int code, const QString &reason, bool reasonByteLimit);
QString attachmentTooLarge(qsizetype bytes);
Status checkAutoResponse(const QString &request, const QString &response);
QString eventTimeoutTooLarge();
/// The description of the protocol error for a received message above the size limit; the
/// Close frame (code 1009) carries the same text.
QString messageTooLarge(qint64 size, qint64 limit);

} // namespace roomscope::doerrors
