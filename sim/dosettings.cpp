#include "dosettings.h"

namespace roomscope {

CompatibilityFlags CompatibilityFlags::forDate(QDate date)
{
    CompatibilityFlags flags;
    flags.deleteAllDeletesAlarm = date >= QDate(2026, 2, 24);
    flags.webSocketCloseReasonByteLimit = date >= QDate(2026, 3, 3);
    flags.webSocketAutoReplyToClose = date >= QDate(2026, 4, 7);
    return flags;
}

} // namespace roomscope
