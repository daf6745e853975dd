// bench_kv: the rate of Workers KV operations on the central store (KvStore) and through a
// namespace's location caches (KvNamespace), and the time of one list page in a store of a
// million keys. It checks what each call returns but asserts nothing about speed, because tests
// never assert speed. docs/benchmarks.md explains the method and records the figures.

#include "benchoutput.h"
#include "processinfo.h"

#include "kvnamespace.h"
#include "kvstore.h"
#include "location.h"
#include "simulation.h"
#include "task.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QTemporaryDir>
#include <QTextStream>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

using namespace roomscope;
using namespace roomscope::bench;

namespace {

constexpr int kMaxRepeats = 10;
/// A timed loop stops after this much wall time even if operations remain, so that a slow
/// configuration (such as a put per transaction in a file) cannot run for minutes.
constexpr double kLoopBudgetSeconds = 5;
constexpr qsizetype kValueBytes = 64;
constexpr int kPageSize = kv::kMaxListLimit;
/// Coroutines that call KvNamespace at once; each makes its calls one after another.
constexpr int kConcurrentCallers = 100;
/// Simulation events dispatched between two looks at the wall clock.
constexpr int kEventsPerClockCheck = 4096;
/// Entries written per KvStore::putMany() transaction when the big store is filled.
constexpr qint64 kFillChunk = 100'000;
/// cacheTtl of the reads through the namespace, in seconds: long enough that a value cached by
/// the miss phase is still fresh in the hit phase, however much virtual time has passed.
constexpr double kReadCacheTtlSeconds = 86'400;
/// 2026-01-01T00:00:00Z, the virtual start time, in microseconds since the epoch.
constexpr SimTime kStart = 1'767'225'600LL * kMicrosecondsPerSecond;

struct Options
{
    int repeats = 3;
    qint64 keys = 100'000;
    qint64 listKeys = 1'000'000;
    bool json = false;
};

void progress(const QString &message)
{
    QTextStream(stderr) << "bench_kv: " << message << Qt::endl;
}

[[noreturn]] void failRun(const QString &message)
{
    progress(message);
    std::exit(1);
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

QString number(double value, int decimals = 0)
{
    static const QLocale english(QLocale::English, QLocale::UnitedStates);
    return english.toString(value, 'f', decimals);
}

/// Key `index` of the operation phases. The zero padding makes byte order numeric order.
QByteArray operationKey(qint64 index)
{
    return QByteArray("key") + QByteArray::number(index).rightJustified(8, '0');
}

/// Key `index` of the big store: group index / 1000, then the position in the group, so that the
/// prefix "g<group>/" matches exactly 1,000 keys.
QByteArray listKey(qint64 index)
{
    return QByteArray("g") + QByteArray::number(index / kPageSize).rightJustified(7, '0') + "/k"
        + QByteArray::number(index % kPageSize).rightJustified(3, '0');
}

QByteArray listGroupPrefix(qint64 group)
{
    return QByteArray("g") + QByteArray::number(group).rightJustified(7, '0') + '/';
}

std::vector<qint64> shuffledIndexes(qint64 count, quint64 seed)
{
    std::vector<qint64> indexes(size_t(count), 0);
    std::iota(indexes.begin(), indexes.end(), 0);
    std::mt19937_64 random(seed);
    std::shuffle(indexes.begin(), indexes.end(), random);
    return indexes;
}

// ---- Result rows ----------------------------------------------------------------------------

/// The repeats of one timed loop. `timing` contains wall seconds per operation, so its best()
/// is the highest rate.
struct RateRow
{
    RateRow() = default;
    RateRow(QString section, QString store, QString operation, QString unit = QStringLiteral("ops"))
        : section(std::move(section))
        , store(std::move(store))
        , operation(std::move(operation))
        , unit(std::move(unit))
    {
    }

    QString section;
    QString store;
    QString operation;
    QString unit = QStringLiteral("ops");
    Timing timing;
    std::vector<qint64> operations; ///< operations completed in each repeat
    bool stoppedByBudget = false; ///< some repeat hit kLoopBudgetSeconds before its last operation

    void add(qint64 done, double seconds, bool stopped)
    {
        operations.push_back(done);
        timing.seconds.push_back(done > 0 ? seconds / double(done) : seconds);
        stoppedByBudget = stoppedByBudget || stopped;
    }
    double medianRate() const { return 1 / timing.median(); }
    double bestRate() const { return 1 / timing.best(); }
    qint64 fewestOperations() const
    {
        return *std::min_element(operations.begin(), operations.end());
    }
};

/// The repeated timing of one single call, in seconds.
struct CallRow
{
    CallRow(QString section, QString operation)
        : section(std::move(section))
        , operation(std::move(operation))
    {
    }

    QString section;
    QString operation;
    Timing timing;
    qint64 keysReturned = 0;
};

// ---- Central store --------------------------------------------------------------------------

std::unique_ptr<KvStore> openStore(const QString &path)
{
    Result<std::unique_ptr<KvStore>> store = KvStore::open(path);
    if (!store)
        failRun(store.error().message);
    return std::move(store).value();
}

KvEntry makeEntry(const QByteArray &key, const QByteArray &value, qint64 version)
{
    KvEntry entry;
    entry.key = key;
    entry.value = value;
    entry.version = version;
    return entry;
}

struct StoreRows
{
    RateRow put;
    RateRow find;
    RateRow list;
};

/// Runs one repeat on a fresh store. It puts every key once in random order, and writes the
/// keys that the time limit left out in one untimed transaction. Then it finds every key in
/// another random order and walks the whole store in pages of 1,000.
void measureStoreOnce(const QString &path, qint64 keys, int repeat, StoreRows &rows)
{
    const std::unique_ptr<KvStore> store = openStore(path);
    const QByteArray value(kValueBytes, 'v');

    const std::vector<qint64> putOrder = shuffledIndexes(keys, 1000 + quint64(repeat));
    qint64 put = 0;
    auto start = std::chrono::steady_clock::now();
    for (; put < keys; ++put) {
        if ((put & 255) == 0 && secondsSince(start) > kLoopBudgetSeconds)
            break;
        const qint64 index = putOrder[size_t(put)];
        if (Status stored = store->put(makeEntry(operationKey(index), value, index + 1)); !stored)
            failRun(stored.error().message);
    }
    rows.put.add(put, secondsSince(start), put < keys);

    std::vector<KvEntry> rest;
    for (qint64 i = put; i < keys; ++i) {
        const qint64 index = putOrder[size_t(i)];
        rest.push_back(makeEntry(operationKey(index), value, index + 1));
    }
    if (Status stored = store->putMany(rest); !stored)
        failRun(stored.error().message);

    const std::vector<qint64> findOrder = shuffledIndexes(keys, 2000 + quint64(repeat));
    qint64 found = 0;
    qint64 finds = 0;
    start = std::chrono::steady_clock::now();
    for (; finds < keys; ++finds) {
        if ((finds & 255) == 0 && secondsSince(start) > kLoopBudgetSeconds)
            break;
        if (store->find(operationKey(findOrder[size_t(finds)])))
            ++found;
    }
    rows.find.add(finds, secondsSince(start), finds < keys);
    if (found != finds)
        failRun(QStringLiteral("find returned %1 of %2 stored keys").arg(found).arg(finds));

    qint64 pages = 0;
    qint64 listed = 0;
    QByteArray cursor;
    start = std::chrono::steady_clock::now();
    while (listed < keys) {
        if (secondsSince(start) > kLoopBudgetSeconds)
            break;
        const std::vector<KvEntry> page = store->list({}, cursor, kPageSize, epochSeconds(kStart));
        if (page.empty())
            break;
        ++pages;
        listed += qint64(page.size());
        cursor = page.back().key;
    }
    const bool stopped = listed < keys && secondsSince(start) > kLoopBudgetSeconds;
    rows.list.add(pages, secondsSince(start), stopped);
    if (!stopped && listed != keys)
        failRun(QStringLiteral("the list walk returned %1 of %2 keys").arg(listed).arg(keys));
}

StoreRows measureStore(const Options &options, bool inFile)
{
    const QString store = inFile ? QStringLiteral("file") : QStringLiteral("memory");
    const QString section = QStringLiteral("store");
    StoreRows rows;
    rows.put = { section, store, QStringLiteral("put") };
    rows.find = { section, store, QStringLiteral("find (get)") };
    rows.list = { section, store, QStringLiteral("list page of 1,000"), QStringLiteral("pages") };
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        progress(QStringLiteral("central store in %1, run %2 of %3")
                     .arg(store)
                     .arg(repeat + 1)
                     .arg(options.repeats));
        if (!inFile) {
            measureStoreOnce(QStringLiteral(":memory:"), options.keys, repeat, rows);
            continue;
        }
        QTemporaryDir directory;
        if (!directory.isValid())
            failRun(QStringLiteral("cannot create a temporary directory: %1")
                        .arg(directory.errorString()));
        measureStoreOnce(
            directory.filePath(QStringLiteral("kv.sqlite3")), options.keys, repeat, rows);
    }
    return rows;
}

// ---- Namespace through the simulation -------------------------------------------------------

/// Two locations 70 ms apart: the central store in LHR and the callers in SJC.
LocationMap benchLocations()
{
    LocationMap locations;
    const LocationId london = locations.add(QStringLiteral("LHR"));
    const LocationId sanJose = locations.add(QStringLiteral("SJC"));
    locations.setLatency(london, sanJose, milliseconds(70));
    locations.setLatency(sanJose, london, milliseconds(70));
    return locations;
}

struct Callers
{
    std::vector<QString> keys;
    qsizetype next = 0;
    bool stop = false;
    qint64 completed = 0;
    qint64 unexpected = 0; ///< calls that failed or were not served as the phase expects
};

enum class CallKind { GetMiss, GetHit, Put };

Task<void> caller(KvNamespace &kv, LocationId from, CallKind kind, Callers &callers)
{
    KvGetOptions getOptions;
    getOptions.cacheTtl = kReadCacheTtlSeconds;
    const QByteArray value(kValueBytes, 'w');
    const QString actor = QStringLiteral("bench");
    while (!callers.stop && callers.next < qsizetype(callers.keys.size())) {
        const QString key = callers.keys[size_t(callers.next++)];
        bool expected = false;
        if (kind == CallKind::Put) {
            const Status stored = co_await kv.put(actor, from, key, value);
            expected = bool(stored);
        } else {
            const Result<KvReadResult> read = co_await kv.get(actor, from, key, getOptions);
            expected = read && read->value && read->fromCentral == (kind == CallKind::GetMiss);
        }
        ++callers.completed;
        if (!expected)
            ++callers.unexpected;
    }
}

/// Starts kConcurrentCallers callers and dispatches the simulation's events until they finish,
/// or until kLoopBudgetSeconds have passed, after which callers start no new calls. Returns the
/// wall seconds, spawning and event dispatch included.
double runCallers(
    Simulation &simulation, KvNamespace &kv, LocationId from, CallKind kind, Callers &callers)
{
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kConcurrentCallers; ++i)
        simulation.spawn(caller(kv, from, kind, callers));
    while (simulation.hasPendingEvents()) {
        for (int i = 0; i < kEventsPerClockCheck && simulation.step(); ++i) { }
        if (!callers.stop && secondsSince(start) > kLoopBudgetSeconds)
            callers.stop = true;
    }
    return secondsSince(start);
}

std::unique_ptr<KvNamespace> createNamespace(Simulation &simulation, const LocationMap &locations)
{
    Result<std::unique_ptr<KvNamespace>> kv
        = KvNamespace::create(simulation, locations, QStringLiteral("BENCH_KV"),
            kvSettingsForProfile(KvProfile::Production), QStringLiteral(":memory:"));
    if (!kv)
        failRun(kv.error().message);
    return std::move(kv).value();
}

/// Imports entries [0, count) made by `keyOf`, in transactions of kFillChunk entries.
void importKeys(KvNamespace &kv, qint64 count, QByteArray (*keyOf)(qint64))
{
    const QByteArray value(kValueBytes, 'v');
    for (qint64 first = 0; first < count; first += kFillChunk) {
        std::vector<KvEntry> chunk;
        const qint64 end = std::min(count, first + kFillChunk);
        chunk.reserve(size_t(end - first));
        for (qint64 index = first; index < end; ++index)
            chunk.push_back(makeEntry(keyOf(index), value, 0));
        if (Status imported = kv.importEntries(chunk); !imported)
            failRun(imported.error().message);
    }
}

struct NamespaceRows
{
    RateRow miss;
    RateRow hit;
    RateRow put;
};

void measureNamespaceOnce(qint64 keys, int repeat, NamespaceRows &rows)
{
    const LocationMap locations = benchLocations();
    Simulation simulation(1, kStart);
    const std::unique_ptr<KvNamespace> kv = createNamespace(simulation, locations);
    importKeys(*kv, keys, operationKey);
    const LocationId sanJose = locations.find(QStringLiteral("SJC"));

    Callers readers;
    for (const qint64 index : shuffledIndexes(keys, 3000 + quint64(repeat)))
        readers.keys.push_back(QString::fromLatin1(operationKey(index)));
    double seconds = runCallers(simulation, *kv, sanJose, CallKind::GetMiss, readers);
    rows.miss.add(readers.completed, seconds, readers.stop);
    if (readers.unexpected)
        failRun(QStringLiteral("%1 of %2 first reads were not served from the central store")
                    .arg(readers.unexpected)
                    .arg(readers.completed));

    // The same keys again, which the first reads put into SJC's cache.
    Callers hits;
    hits.keys.assign(readers.keys.begin(), readers.keys.begin() + readers.completed);
    std::shuffle(hits.keys.begin(), hits.keys.end(), std::mt19937_64(4000 + quint64(repeat)));
    seconds = runCallers(simulation, *kv, sanJose, CallKind::GetHit, hits);
    rows.hit.add(hits.completed, seconds, hits.stop);
    if (hits.unexpected)
        failRun(QStringLiteral("%1 of %2 second reads were not cache hits")
                    .arg(hits.unexpected)
                    .arg(hits.completed));

    // New keys in random order, as the store's put loop writes them, each written once so that
    // the same-key write limit never applies.
    Callers writers;
    for (const qint64 index : shuffledIndexes(keys, 5000 + quint64(repeat)))
        writers.keys.push_back(QStringLiteral("new") + QString::fromLatin1(operationKey(index)));
    seconds = runCallers(simulation, *kv, sanJose, CallKind::Put, writers);
    rows.put.add(writers.completed, seconds, writers.stop);
    if (writers.unexpected)
        failRun(
            QStringLiteral("%1 of %2 puts failed").arg(writers.unexpected).arg(writers.completed));
}

NamespaceRows measureNamespace(const Options &options)
{
    const QString section = QStringLiteral("namespace");
    const QString store = QStringLiteral("memory");
    NamespaceRows rows;
    rows.miss = { section, store, QStringLiteral("get, miss (central store)") };
    rows.hit = { section, store, QStringLiteral("get, hit (SJC's cache)") };
    rows.put = { section, store, QStringLiteral("put") };
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        progress(QStringLiteral("namespace through the simulation, run %1 of %2")
                     .arg(repeat + 1)
                     .arg(options.repeats));
        measureNamespaceOnce(options.keys, repeat, rows);
    }
    return rows;
}

// ---- One page of a big store ----------------------------------------------------------------

struct ListResults
{
    double storeFillSeconds = 0;
    double namespaceFillSeconds = 0;
    std::vector<CallRow> rows;
};

void measureStorePages(const Options &options, ListResults &results)
{
    const std::unique_ptr<KvStore> store = openStore(QStringLiteral(":memory:"));
    const QByteArray value(kValueBytes, 'v');
    progress(QStringLiteral("filling a store with %1 keys").arg(number(double(options.listKeys))));
    const auto start = std::chrono::steady_clock::now();
    for (qint64 first = 0; first < options.listKeys; first += kFillChunk) {
        std::vector<KvEntry> chunk;
        const qint64 end = std::min(options.listKeys, first + kFillChunk);
        chunk.reserve(size_t(end - first));
        for (qint64 index = first; index < end; ++index)
            chunk.push_back(makeEntry(listKey(index), value, index + 1));
        if (Status stored = store->putMany(chunk); !stored)
            failRun(stored.error().message);
    }
    results.storeFillSeconds = secondsSince(start);

    // Each page is addressed by the last key of the page before it, as a cursor addresses it.
    const struct
    {
        QString name;
        qint64 firstIndex;
    } pages[] = {
        { QStringLiteral("KvStore::list, first page"), 0 },
        { QStringLiteral("KvStore::list, middle page"), options.listKeys / 2 },
        { QStringLiteral("KvStore::list, last page"), options.listKeys - kPageSize },
    };
    for (const auto &page : pages) {
        CallRow row { QStringLiteral("list"), page.name };
        const QByteArray startAfter
            = page.firstIndex > 0 ? listKey(page.firstIndex - 1) : QByteArray();
        for (int repeat = 0; repeat < options.repeats; ++repeat) {
            const auto callStart = std::chrono::steady_clock::now();
            const std::vector<KvEntry> entries
                = store->list({}, startAfter, kPageSize, epochSeconds(kStart));
            row.timing.seconds.push_back(secondsSince(callStart));
            if (entries.size() != size_t(kPageSize)
                || entries.front().key != listKey(page.firstIndex))
                failRun(QStringLiteral("%1 returned %2 keys, starting at \"%3\"")
                            .arg(page.name)
                            .arg(entries.size())
                            .arg(QString::fromLatin1(
                                entries.empty() ? QByteArray() : entries.front().key)));
            row.keysReturned = qint64(entries.size());
        }
        results.rows.push_back(row);
    }
}

Task<void> listOnce(KvNamespace &kv, LocationId from, QString prefix, Result<KvListResult> &listed)
{
    KvListOptions options;
    options.prefix = prefix;
    options.limit = kPageSize;
    listed = co_await kv.list(QStringLiteral("bench"), from, options);
}

void measureNamespacePages(const Options &options, ListResults &results)
{
    const LocationMap locations = benchLocations();
    Simulation simulation(1, kStart);
    const std::unique_ptr<KvNamespace> kv = createNamespace(simulation, locations);
    progress(
        QStringLiteral("filling a namespace with %1 keys").arg(number(double(options.listKeys))));
    const auto start = std::chrono::steady_clock::now();
    importKeys(*kv, options.listKeys, listKey);
    results.namespaceFillSeconds = secondsSince(start);

    const qint64 groups = options.listKeys / kPageSize;
    const struct
    {
        QString name;
        qint64 group;
    } prefixes[] = {
        { QStringLiteral("KvNamespace::list, first prefix"), 0 },
        { QStringLiteral("KvNamespace::list, middle prefix"), groups / 2 },
        { QStringLiteral("KvNamespace::list, last prefix"), groups - 1 },
    };
    const LocationId sanJose = locations.find(QStringLiteral("SJC"));
    for (const auto &entry : prefixes) {
        const QString prefix = QString::fromLatin1(listGroupPrefix(entry.group));
        CallRow row { QStringLiteral("list"),
            entry.name + QStringLiteral(" \"") + prefix + QLatin1Char('"') };
        for (int repeat = 0; repeat < options.repeats; ++repeat) {
            Result<KvListResult> listed = Error::error(QStringLiteral("list did not finish"));
            const auto callStart = std::chrono::steady_clock::now();
            simulation.spawn(listOnce(*kv, sanJose, prefix, listed));
            while (simulation.step()) { }
            row.timing.seconds.push_back(secondsSince(callStart));
            if (!listed)
                failRun(listed.error().message);
            if (listed->keys.size() != size_t(kPageSize) || !listed->listComplete)
                failRun(QStringLiteral("list of prefix \"%1\" returned %2 keys")
                            .arg(prefix)
                            .arg(listed->keys.size()));
            row.keysReturned = qint64(listed->keys.size());
        }
        results.rows.push_back(row);
    }
}

// ---- Output ---------------------------------------------------------------------------------

void printHeader(const MachineInfo &machine, const Options &options)
{
    out() << "Roomscope Workers KV benchmark\n";
    out() << "  machine   " << machine.cpuModel << ", " << machine.cpus << " CPUs, "
          << machine.kernel << '\n';
    out() << "  build     " << machine.buildType << ", " << machine.compiler << ", Qt "
          << machine.qtVersion << ", SQLite " << sqlite3_libversion() << '\n';
    out() << "  keys      " << number(double(options.keys)) << " for the operation rates, "
          << number(double(options.listKeys)) << " for the list pages; values of " << kValueBytes
          << " bytes\n";
    out() << "  repeats   median of " << options.repeats << ", best in brackets; a timed loop "
          << "stops after " << kLoopBudgetSeconds << " s\n\n";
}

void printRates(const QString &title, const std::vector<const RateRow *> &rows)
{
    out() << title << '\n';
    out() << QStringLiteral("  %1 %2 %3 %4\n")
                 .arg(QStringLiteral("store"), -8)
                 .arg(QStringLiteral("operation"), -27)
                 .arg(QStringLiteral("per run"), 14)
                 .arg(QStringLiteral("per second"), 26);
    for (const RateRow *row : rows) {
        const QString count = number(double(row->fewestOperations()))
            + (row->stoppedByBudget ? QStringLiteral("*") : QString());
        out() << QStringLiteral("  %1 %2 %3 %4\n")
                     .arg(row->store, -8)
                     .arg(row->operation, -27)
                     .arg(count, 14)
                     .arg(QStringLiteral("%1 (%2) %3")
                              .arg(number(row->medianRate()), number(row->bestRate()), row->unit),
                         26);
    }
}

void printLists(const ListResults &results, const Options &options)
{
    out() << "One list page of 1,000 keys out of " << number(double(options.listKeys)) << '\n';
    out() << "  filled with KvStore::putMany in " << number(results.storeFillSeconds, 2)
          << " s and with KvNamespace::importEntries in " << number(results.namespaceFillSeconds, 2)
          << " s, transactions of " << number(double(kFillChunk)) << " entries\n";
    out() << QStringLiteral("  %1 %2\n")
                 .arg(QStringLiteral("call"), -52)
                 .arg(QStringLiteral("wall time"), 22);
    for (const CallRow &row : results.rows) {
        out() << QStringLiteral("  %1 %2\n")
                     .arg(row.operation, -52)
                     .arg(QStringLiteral("%1 ms (%2 ms)")
                              .arg(number(row.timing.median() * 1000, 3),
                                  number(row.timing.best() * 1000, 3)),
                         22);
    }
    out()
        << "  KvNamespace::list includes spawning the call and dispatching its two latency\n"
           "  events; the namespace asks its store for 1,001 entries to tell whether the list is\n"
           "  complete.\n";
}

QJsonObject rateJson(const RateRow &row)
{
    return QJsonObject {
        { QStringLiteral("section"), row.section },
        { QStringLiteral("store"), row.store },
        { QStringLiteral("operation"), row.operation },
        { QStringLiteral("unit"), row.unit },
        { QStringLiteral("runs"), int(row.operations.size()) },
        { QStringLiteral("fewestPerRun"), double(row.fewestOperations()) },
        { QStringLiteral("stoppedByTimeLimit"), row.stoppedByBudget },
        { QStringLiteral("medianPerSecond"), row.medianRate() },
        { QStringLiteral("bestPerSecond"), row.bestRate() },
    };
}

QJsonObject callJson(const CallRow &row)
{
    return QJsonObject {
        { QStringLiteral("call"), row.operation },
        { QStringLiteral("keys"), double(row.keysReturned) },
        { QStringLiteral("runs"), int(row.timing.seconds.size()) },
        { QStringLiteral("medianSeconds"), row.timing.median() },
        { QStringLiteral("bestSeconds"), row.timing.best() },
    };
}

// ---- Command line ---------------------------------------------------------------------------

Options parseOptions(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measures Workers KV operations per second on the central store and through a\n"
        "namespace's location caches, and the time of one list page in a big store."));
    parser.addHelpOption();
    const QCommandLineOption keys(QStringLiteral("keys"),
        QStringLiteral("Keys in the operation-rate phases, 1,000 to 10,000,000 (default 100,000)."),
        QStringLiteral("N"), QStringLiteral("100000"));
    const QCommandLineOption listKeys(QStringLiteral("list-keys"),
        QStringLiteral("Keys in the store that the list pages are read from, a multiple of 1,000 "
                       "from 2,000 to 10,000,000 (default 1,000,000)."),
        QStringLiteral("N"), QStringLiteral("1000000"));
    const QCommandLineOption repeats(QStringLiteral("repeats"),
        QStringLiteral("Timed runs of each measurement, 1 to 10 (default 3)."), QStringLiteral("N"),
        QStringLiteral("3"));
    const QCommandLineOption json(
        QStringLiteral("json"), QStringLiteral("Print one JSON line instead of the tables."));
    parser.addOptions({ keys, listKeys, repeats, json });
    parser.process(arguments);

    const auto fail = [](const QString &message) {
        QTextStream(stderr) << "bench_kv: " << message << '\n';
        std::exit(2);
    };
    const auto integer = [&](const QCommandLineOption &option, qint64 low, qint64 high) {
        bool ok = false;
        const qint64 value = parser.value(option).toLongLong(&ok);
        if (!ok || value < low || value > high)
            fail(QStringLiteral("invalid --%1 \"%2\"; give a whole number from %3 to %4")
                     .arg(option.names().first(), parser.value(option))
                     .arg(low)
                     .arg(high));
        return value;
    };

    Options options;
    options.keys = integer(keys, 1'000, 10'000'000);
    options.listKeys = integer(listKeys, 2'000, 10'000'000);
    if (options.listKeys % kPageSize != 0)
        fail(QStringLiteral("invalid --list-keys \"%1\"; give a multiple of 1000")
                 .arg(options.listKeys));
    options.repeats = int(integer(repeats, 1, kMaxRepeats));
    options.json = parser.isSet(json);
    return options;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication application(argc, argv);
    const Options options = parseOptions(application.arguments());
    const MachineInfo machine = MachineInfo::current();

    const StoreRows memory = measureStore(options, false);
    const StoreRows file = measureStore(options, true);
    const NamespaceRows kv = measureNamespace(options);
    ListResults lists;
    measureStorePages(options, lists);
    measureNamespacePages(options, lists);

    const std::vector<const RateRow *> storeRows
        = { &memory.put, &memory.find, &memory.list, &file.put, &file.find, &file.list };
    const std::vector<const RateRow *> namespaceRows = { &kv.miss, &kv.hit, &kv.put };

    if (options.json) {
        QJsonArray rates;
        for (const RateRow *row : storeRows)
            rates.append(rateJson(*row));
        for (const RateRow *row : namespaceRows)
            rates.append(rateJson(*row));
        QJsonArray calls;
        for (const CallRow &row : lists.rows)
            calls.append(callJson(row));
        const QJsonObject record {
            { QStringLiteral("benchmark"), QStringLiteral("bench_kv") },
            { QStringLiteral("machine"), machine.toJson() },
            { QStringLiteral("sqlite"), QString::fromLatin1(sqlite3_libversion()) },
            { QStringLiteral("keys"), double(options.keys) },
            { QStringLiteral("listKeys"), double(options.listKeys) },
            { QStringLiteral("valueBytes"), double(kValueBytes) },
            { QStringLiteral("loopBudgetSeconds"), kLoopBudgetSeconds },
            { QStringLiteral("rates"), rates },
            { QStringLiteral("storeFillSeconds"), lists.storeFillSeconds },
            { QStringLiteral("namespaceFillSeconds"), lists.namespaceFillSeconds },
            { QStringLiteral("listCalls"), calls },
        };
        out() << QJsonDocument(record).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }

    printHeader(machine, options);
    printRates(QStringLiteral("Central store (KvStore), one call per operation"), storeRows);
    out()
        << "  memory is \":memory:\"; file is a new SQLite file in a temporary directory, opened\n"
           "  by KvStore::open as a session file is, so each put is its own transaction.\n"
           "  * a run stopped at the time limit; the rate covers the operations it made.\n\n";
    printRates(QStringLiteral("Namespace (KvNamespace) through the simulation, SJC calling a "
                              "central store in LHR"),
        namespaceRows);
    out()
        << "  Rates are calls completed per wall second, with " << kConcurrentCallers
        << " coroutines calling at once,\n"
           "  and include the simulation's own event dispatch: a hit waits for one event (the\n"
           "  1 ms cache latency), a miss or a put for two (the trip to LHR and back).\n"
           "  A miss is the first read of a key at SJC; a hit reads it again from SJC's cache.\n\n";
    printLists(lists, options);
    return 0;
}
