#include "http.h"

namespace roomscope {

namespace {

QString decodeFormComponent(const QByteArray &component)
{
    QByteArray bytes = component;
    bytes.replace('+', ' ');
    return QString::fromUtf8(QByteArray::fromPercentEncoding(bytes));
}

std::vector<std::pair<QString, QString>> decodeSearchParams(const QUrl &url)
{
    std::vector<std::pair<QString, QString>> params;
    const QByteArray query = url.query(QUrl::FullyEncoded).toUtf8();
    for (const QByteArray &pair : query.split('&')) {
        if (pair.isEmpty())
            continue;
        const qsizetype equals = pair.indexOf('=');
        if (equals < 0)
            params.emplace_back(decodeFormComponent(pair), QString());
        else
            params.emplace_back(decodeFormComponent(pair.left(equals)),
                                decodeFormComponent(pair.mid(equals + 1)));
    }
    return params;
}

std::optional<QString> findParam(const std::vector<std::pair<QString, QString>> &params,
                                 QStringView name)
{
    for (const auto &[key, value] : params) {
        if (key == name)
            return value;
    }
    return std::nullopt;
}

} // namespace

std::optional<QString> searchParam(const QUrl &url, QStringView name)
{
    return findParam(decodeSearchParams(url), name);
}

std::optional<QString> HttpRequest::findQueryItem(QStringView name) const
{
    if (!m_searchParams || m_searchParams->first != url)
        m_searchParams = std::make_shared<const std::pair<QUrl, SearchParams>>(url, decodeSearchParams(url));
    return findParam(m_searchParams->second, name);
}

QByteArray encodeSearchParam(const QString &value)
{
    // Characters that a query may hold literally stay readable. '&', '=', '+', '#' and '%' are
    // escaped because a form decoder would read them as syntax.
    return QUrl::toPercentEncoding(value, ":/@!$'()*,;?");
}

} // namespace roomscope
