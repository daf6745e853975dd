#pragma once

// Reading and writing fixture files, and running SQL on an SQLite file, for tests that build
// files the way other programs (wrangler, an older session) would have left them.

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QString>

#include <sqlite3.h>

namespace roomscope::testing {

/// Writes `content` to `path`, creating missing parent folders; returns false on any failure.
inline bool writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

/// The whole file, or an empty array when it cannot be read.
inline QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

/// Runs SQL on a file with the plain SQLite API; returns the error text, empty on success.
inline QString executeSql(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    QString error;
    if (sqlite3_open(path.toUtf8().constData(), &db) != SQLITE_OK) {
        error = QString::fromUtf8(sqlite3_errmsg(db));
    } else {
        char *message = nullptr;
        if (sqlite3_exec(db, sql.constData(), nullptr, nullptr, &message) != SQLITE_OK)
            error = QString::fromUtf8(message);
        sqlite3_free(message);
    }
    sqlite3_close(db);
    return error;
}

} // namespace roomscope::testing
