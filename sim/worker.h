#pragma once

#include "http.h"
#include "location.h"
#include "task.h"

namespace roomscope {

/// The Worker in front of the rooms: the built-in kv-room Worker or the user's own script.
class Worker
{
public:
    virtual ~Worker() = default;
    /// Handles a request in the Worker running at `location`.
    virtual Task<HttpResponse> fetch(LocationId location, HttpRequest request) = 0;
};

} // namespace roomscope
