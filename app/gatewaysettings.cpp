#include "gatewaysettings.h"

#include <QUrl>

namespace roomscope {

namespace {

/// The address as it appears in a URL's host part: IPv6 in brackets.
QString urlHost(const QHostAddress &address)
{
    const QString text = address.toString();
    return address.protocol() == QAbstractSocket::IPv6Protocol ? QLatin1Char('[') + text + QLatin1Char(']')
                                                               : text;
}

/// Host names that reach this gateway without DNS: loopback names and the listen address.
QStringList ownHostNames(const GatewaySettings &settings)
{
    QStringList names { QStringLiteral("localhost"), QStringLiteral("127.0.0.1"),
                        QStringLiteral("[::1]") };
    const QString listen = urlHost(settings.address);
    if (!names.contains(listen))
        names << listen;
    for (const QString &host : settings.allowedHosts)
        names << host.toLower();
    return names;
}

} // namespace

Result<QString> GatewaySettings::checkAddress() const
{
    if (address.isNull())
        return Error::error(QStringLiteral("The listen address is not an IP address; give one "
                                           "such as 127.0.0.1 or ::1."));
    if (address.isLoopback())
        return QString();
    if (!allowNonLoopback)
        return Error::error(
                QStringLiteral("Refusing to listen on %1: it is not a loopback address, so other "
                               "machines could reach the simulation. Listen on 127.0.0.1 (the "
                               "default) or ::1, or add --allow-non-loopback to accept the risk.")
                        .arg(address.toString()));
    return QStringLiteral("WARNING: listening on %1, which is not a loopback address: any machine "
                          "that can reach it can send requests to the simulation and join its "
                          "rooms. Nothing here authenticates them.")
            .arg(address.toString());
}

QString GatewaySettings::ownOrigin(quint16 listeningPort) const
{
    return QStringLiteral("http://%1:%2").arg(urlHost(address)).arg(listeningPort);
}

std::optional<QString> checkHostHeader(const GatewaySettings &settings, quint16 listeningPort,
                                       const QByteArray &host)
{
    if (host.isEmpty())
        return std::nullopt;
    const QString text = QString::fromLatin1(host).trimmed().toLower();
    // Split off the port; an IPv6 literal keeps its brackets.
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    const bool hasPort = colon > 0 && !text.endsWith(QLatin1Char(']'));
    const QString name = hasPort ? text.left(colon) : text;
    const QString port = hasPort ? text.mid(colon + 1) : QStringLiteral("80");
    if (ownHostNames(settings).contains(name) && port == QString::number(listeningPort))
        return std::nullopt;
    return QStringLiteral("Host \"%1\" is not this gateway's address, so the request may come "
                          "from a page that rebound its DNS name to this machine. Use "
                          "http://127.0.0.1:%2/ or http://localhost:%2/, or add --allow-host "
                          "NAME for a name you trust.")
            .arg(QString::fromLatin1(host))
            .arg(listeningPort);
}

std::optional<QString> checkOriginHeader(const GatewaySettings &settings, quint16 listeningPort,
                                         const QByteArray &origin)
{
    if (origin.isEmpty())
        return std::nullopt;
    const QString text = QString::fromLatin1(origin).trimmed();
    for (const QString &allowed : settings.allowedOrigins) {
        if (text.compare(allowed, Qt::CaseInsensitive) == 0)
            return std::nullopt;
    }
    const QUrl url(text);
    if (url.isValid() && url.scheme() == QLatin1String("http") && url.path().isEmpty()
        && url.port() == listeningPort) {
        const QString host = url.host().contains(QLatin1Char(':'))
                ? QLatin1Char('[') + url.host() + QLatin1Char(']')
                : url.host().toLower();
        if (ownHostNames(settings).contains(host))
            return std::nullopt;
    }
    return QStringLiteral("Origin \"%1\" is not this gateway's own, so a page on another site "
                          "made the request. Open the page from %2/ or add --allow-origin %1 "
                          "if you trust it.")
            .arg(text, settings.ownOrigin(listeningPort));
}

} // namespace roomscope
