#pragma once

#include "trace.h"

#include <QMetaType>
#include <Qt>

namespace roomscope {

/// Item data roles shared by Roomscope's models, from Qt::UserRole up.
enum ModelRole {
    /// The full bytes behind a cell (a KV value, a message), as a QByteArray.
    RawValueRole = Qt::UserRole + 1,
    /// A one-line title for the raw value, for the inspector: "announcement, central value".
    ValueTitleRole,
    /// The TraceEvent of an event log row.
    TraceEventRole,
    /// True for a KV cell whose value differs from what the central store contains now.
    StaleRole,
    /// True for a KV cell served from the location's cache; false when a read would fetch.
    CachedRole,
    /// A Highlight that views turn into a row or cell colour.
    HighlightRole,
    /// The value to sort a column by: a number where the displayed text is a number or a time.
    SortRole,
};

/// The kind of attention a view should draw to a row or cell.
enum class Highlight {
    None,
    Warning, ///< a stale read, a write merged into another
    Error, ///< a rejected write (429), a failed request
};

} // namespace roomscope

Q_DECLARE_METATYPE(roomscope::TraceEvent)
Q_DECLARE_METATYPE(roomscope::Highlight)
