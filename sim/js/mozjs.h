#pragma once

// Every SpiderMonkey header that sim/js/ uses. Include this before any Qt header: Qt defines
// `slots` as a macro, and SpiderMonkey's headers use it as a field name.

#include <jsapi.h>
#include <jsfriendapi.h>

#include <js/Array.h>
#include <js/ArrayBuffer.h>
#include <js/BuildId.h>
#include <js/CallAndConstruct.h>
#include <js/CharacterEncoding.h>
#include <js/CompilationAndEvaluation.h>
#include <js/ContextOptions.h>
#include <js/Conversions.h>
#include <js/Date.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/Initialization.h>
#include <js/JSON.h>
#include <js/MapAndSet.h>
#include <js/Modules.h>
#include <js/Object.h>
#include <js/Promise.h>
#include <js/PropertyAndElement.h>
#include <js/SourceText.h>
#include <js/experimental/TypedData.h>
