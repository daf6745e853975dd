#pragma once

#include "trace.h"

namespace roomscope {

/// A sink added to a Trace and removed again when the subscription is reset or destroyed.
/// The trace must outlive the subscription or be released with reset() first.
class TraceSubscription
{
public:
    TraceSubscription() = default;
    ~TraceSubscription() { reset(); }
    TraceSubscription(const TraceSubscription &) = delete;
    TraceSubscription &operator=(const TraceSubscription &) = delete;

    void subscribe(Trace &trace, Trace::Sink sink)
    {
        reset();
        m_trace = &trace;
        m_index = trace.addSink(std::move(sink));
    }
    void reset()
    {
        if (m_trace)
            m_trace->removeSink(m_index);
        m_trace = nullptr;
        m_index = -1;
    }

private:
    Trace *m_trace = nullptr;
    int m_index = -1;
};

} // namespace roomscope
