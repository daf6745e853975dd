#include "topologyview.h"

#include "roomsmodel.h"
#include "simulationcontroller.h"

#include <QFontMetricsF>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <cmath>
#include <numbers>

namespace roomscope {

namespace {

constexpr qreal kMargin = 16;
constexpr qreal kBoxPadding = 10;
constexpr qreal kMaxBoxWidth = 300;

const QColor kActiveColor(0x2e, 0x9d, 0x4f);
const QColor kIdleColor(0x5b, 0x7f, 0xa6);

} // namespace

TopologyView::TopologyView(SimulationController *controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
{
    setObjectName(QStringLiteral("topologyView"));
    setAutoFillBackground(true);
    setBackgroundRole(QPalette::Base);
    connect(controller, &SimulationController::advanced, this, qOverload<>(&QWidget::update));
    connect(controller, &SimulationController::worldChanged, this, qOverload<>(&QWidget::update));
}

QSize TopologyView::minimumSizeHint() const
{
    return { 360, 260 };
}

QSize TopologyView::sizeHint() const
{
    return { 720, 480 };
}

void TopologyView::setSelectedRoom(const QString &name)
{
    if (name == m_selectedRoom)
        return;
    m_selectedRoom = name;
    update();
}

QRectF TopologyView::roomRect(const QString &name) const
{
    for (const auto &[rect, room] : m_roomRects) {
        if (room == name)
            return rect;
    }
    return {};
}

void TopologyView::mousePressEvent(QMouseEvent *event)
{
    for (const auto &[rect, room] : m_roomRects) {
        if (rect.contains(event->position())) {
            Q_EMIT roomClicked(room);
            return;
        }
    }
    QWidget::mousePressEvent(event);
}

std::vector<TopologyView::LocationBox> TopologyView::collectBoxes(const World &world) const
{
    std::vector<LocationBox> boxes(size_t(world.locations().count()));
    for (LocationId id = 0; id < world.locations().count(); ++id) {
        boxes[size_t(id)].name = world.locations().name(id);
        boxes[size_t(id)].centralStore = id == world.kv().settings().centralLocation;
    }
    for (const std::unique_ptr<SimulatedClient> &client : world.clients()) {
        LocationBox &box = boxes[size_t(client->location())];
        ++box.clientsTotal;
        if (client->state() == SimulatedClient::State::Open)
            ++box.clientsOpen;
    }
    for (const QString &name : world.roomNames()) {
        RoomBadge badge;
        badge.name = name;
        LocationId location = -1;
        if (const DurableObject *object = world.roomObject(name)) {
            location = object->location();
            badge.created = true;
            badge.active = object->state() == ObjectState::Active;
            badge.state = RoomsModel::stateName(RoomsModel::roomState(object->state()));
            badge.sockets = object->openSocketCount();
        } else {
            for (const Scenario::Room &room : world.scenario().rooms) {
                if (room.name == name)
                    location = world.locations().find(room.location);
            }
            badge.state = RoomsModel::stateName(RoomsModel::RoomState::NotCreated);
        }
        if (const KvRoom *room = world.room(name)) {
            badge.hasQueue = true;
            badge.queueDepth = int(room->pendingWrites().size());
        }
        // A room without a location hint is placed by its first caller, so until then it has no
        // box.
        if (location >= 0)
            boxes[size_t(location)].rooms.push_back(badge);
    }
    return boxes;
}

qreal TopologyView::boxHeight(const LocationBox &box) const
{
    const qreal line = fontMetrics().height() + 4;
    // The title, the clients line, then two lines per room (or one saying there is none).
    const qreal roomLines = box.rooms.empty() ? 1 : 2 * qreal(box.rooms.size());
    return 2 * kBoxPadding + line * 1.4 + line + line * roomLines;
}

void TopologyView::layoutBoxes(std::vector<LocationBox> &boxes, const QRectF &area) const
{
    const int count = int(boxes.size());
    if (count == 0)
        return;
    qreal height = 0;
    for (const LocationBox &box : boxes)
        height = std::max(height, boxHeight(box));
    // Narrow enough that neighbouring boxes leave room for the latency label between them.
    qreal columns = 2.8;
    if (count == 1)
        columns = 1.5;
    else if (count == 2)
        columns = 2.6;
    const qreal width = std::min(kMaxBoxWidth, area.width() / columns);
    if (count == 1) {
        boxes[0].rect = QRectF(0, 0, width, height);
        boxes[0].rect.moveCenter(area.center());
        return;
    }
    // Centres on an ellipse, starting so that the top edge is symmetric about the vertical axis.
    const qreal radiusX = std::max<qreal>(0, area.width() / 2 - width / 2);
    const qreal radiusY = std::max<qreal>(0, area.height() / 2 - height / 2);
    const qreal startDegrees = -90.0 - 180.0 / count;
    for (int i = 0; i < count; ++i) {
        const qreal angle = (startDegrees + 360.0 * i / count) * std::numbers::pi / 180.0;
        const QPointF centre(area.center().x() + radiusX * std::cos(angle),
            area.center().y() + radiusY * std::sin(angle));
        boxes[size_t(i)].rect = QRectF(0, 0, width, height);
        boxes[size_t(i)].rect.moveCenter(centre);
    }
}

void TopologyView::paintEvent(QPaintEvent *event)
{
    Q_UNUSED(event);
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    m_roomRects.clear();
    const World *world = m_controller->world();
    if (!world) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(
            rect(), Qt::AlignCenter, tr("No scenario loaded. Use File > Open Scenario."));
        return;
    }
    paintSummary(painter, *world);

    const qreal summaryHeight = 3 * (fontMetrics().height() + 2) + kMargin;
    const qreal legendHeight = 2 * fontMetrics().height() + kMargin;
    const QRectF area(
        kMargin, summaryHeight, width() - 2 * kMargin, height() - summaryHeight - legendHeight);
    std::vector<LocationBox> boxes = collectBoxes(*world);
    layoutBoxes(boxes, area);
    paintLinks(painter, *world, boxes);
    for (const LocationBox &box : boxes)
        paintBox(painter, box);

    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(QRectF(kMargin, height() - legendHeight, width() - 2 * kMargin, legendHeight),
        Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap,
        tr("Boxes are locations; lines give the one-way latency between them. "
           "Rooms: green active, blue idle, hollow not created yet. Click a room to inspect it."));
}

void TopologyView::paintSummary(QPainter &painter, const World &world) const
{
    const Metrics &metrics = world.metrics();
    const qreal line = fontMetrics().height() + 2;
    QFont bold = font();
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(palette().color(QPalette::Text));
    painter.drawText(QPointF(kMargin, kMargin + fontMetrics().ascent()),
        tr("Scenario %1").arg(world.scenario().name));
    painter.setFont(font());
    // A Worker script sends messages one ws.send() at a time; the platform has no broadcast
    // call, so its rooms count messages sent instead of broadcasts.
    const QString requests = world.script()
        ? tr("Requests %1 (%2 failed) · messages sent %3 · messages delivered %4")
              .arg(metrics.requests)
              .arg(metrics.requestsFailed)
              .arg(metrics.messagesSent)
              .arg(metrics.messagesDelivered)
        : tr("Requests %1 (%2 failed) · broadcasts %3 · messages delivered %4")
              .arg(metrics.requests)
              .arg(metrics.requestsFailed)
              .arg(metrics.broadcasts)
              .arg(metrics.messagesDelivered);
    const QString kv = tr("KV reads %1 (%2 from the central store, %3 stale) · KV writes %4 "
                          "(%5 rejected with 429)")
                           .arg(metrics.kvReads)
                           .arg(metrics.kvReadsFromCentral)
                           .arg(metrics.kvStaleReads)
                           .arg(metrics.kvWrites)
                           .arg(metrics.kvWritesRateLimited);
    painter.drawText(QPointF(kMargin, kMargin + line + fontMetrics().ascent()), requests);
    painter.drawText(QPointF(kMargin, kMargin + 2 * line + fontMetrics().ascent()), kv);
}

void TopologyView::paintLinks(
    QPainter &painter, const World &world, const std::vector<LocationBox> &boxes) const
{
    const LocationMap &locations = world.locations();
    QPen pen(palette().color(QPalette::Mid), 2);
    for (LocationId a = 0; a < locations.count(); ++a) {
        for (LocationId b = a + 1; b < locations.count(); ++b) {
            const QPointF from = boxes[size_t(a)].rect.center();
            const QPointF to = boxes[size_t(b)].rect.center();
            painter.setPen(pen);
            painter.drawLine(from, to);

            const QString label = formatDuration(locations.baseLatency(a, b));
            const QPointF middle = (from + to) / 2;
            QRectF labelRect = fontMetrics().boundingRect(label).adjusted(-6, -3, 6, 3);
            labelRect.moveCenter(middle);
            painter.setPen(Qt::NoPen);
            painter.setBrush(palette().color(QPalette::Window));
            painter.drawRoundedRect(labelRect, 4, 4);
            painter.setPen(palette().color(QPalette::Text));
            painter.drawText(labelRect, Qt::AlignCenter, label);
        }
    }
}

void TopologyView::paintBox(QPainter &painter, const LocationBox &box)
{
    const QPalette &colors = palette();
    const qreal line = fontMetrics().height() + 4;
    painter.setPen(
        QPen(box.centralStore ? colors.color(QPalette::Highlight) : colors.color(QPalette::Mid),
            box.centralStore ? 2.5 : 1.5));
    painter.setBrush(colors.color(QPalette::AlternateBase));
    painter.drawRoundedRect(box.rect, 8, 8);

    const QRectF inner = box.rect.adjusted(kBoxPadding, kBoxPadding, -kBoxPadding, -kBoxPadding);
    QFont title = font();
    title.setBold(true);
    title.setPointSizeF(title.pointSizeF() * 1.25);
    painter.setFont(title);
    painter.setPen(colors.color(QPalette::Text));
    const QRectF titleRect(inner.left(), inner.top(), inner.width(), line * 1.4);
    painter.drawText(titleRect, Qt::AlignLeft | Qt::AlignVCenter, box.name);
    const qreal titleWidth = QFontMetricsF(title).horizontalAdvance(box.name);
    painter.setFont(font());

    if (box.centralStore) {
        // A narrow box gets a shorter badge, so that it does not cover the location's name.
        QString badge = tr("KV central store");
        for (const QString &shorter : { tr("KV central"), tr("KV") }) {
            if (titleWidth + fontMetrics().horizontalAdvance(badge) + 24 <= inner.width())
                break;
            badge = shorter;
        }
        QRectF badgeRect = fontMetrics().boundingRect(badge).adjusted(-6, -2, 6, 2);
        badgeRect.moveCenter(
            QPointF(inner.right() - badgeRect.width() / 2, titleRect.center().y()));
        painter.setPen(Qt::NoPen);
        painter.setBrush(colors.color(QPalette::Highlight));
        painter.drawRoundedRect(badgeRect, 4, 4);
        painter.setPen(colors.color(QPalette::HighlightedText));
        painter.drawText(badgeRect, Qt::AlignCenter, badge);
    }

    qreal y = titleRect.bottom();
    painter.setPen(colors.color(QPalette::Text));
    const QString clients = box.clientsTotal == 0
        ? tr("No clients")
        : tr("%1 clients (%2 open)").arg(box.clientsTotal).arg(box.clientsOpen);
    painter.drawText(QRectF(inner.left(), y, inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
        fontMetrics().elidedText(clients, Qt::ElideRight, int(inner.width())));
    y += line;

    if (box.rooms.empty()) {
        painter.setPen(colors.color(QPalette::PlaceholderText));
        painter.drawText(QRectF(inner.left(), y, inner.width(), line),
            Qt::AlignLeft | Qt::AlignVCenter, tr("No room objects"));
        return;
    }
    for (const RoomBadge &room : box.rooms) {
        const QRectF roomArea(inner.left() - 4, y, inner.width() + 8, 2 * line);
        m_roomRects.emplace_back(roomArea, room.name);
        if (room.name == m_selectedRoom) {
            painter.setPen(QPen(colors.color(QPalette::Highlight), 1.5));
            painter.setBrush(Qt::NoBrush);
            painter.drawRoundedRect(roomArea, 4, 4);
        }
        const qreal dot = line * 0.45;
        const QRectF dotRect(inner.left(), y + (line - dot) / 2, dot, dot);
        const QColor color = room.active ? kActiveColor : kIdleColor;
        painter.setPen(QPen(color, 1.5));
        painter.setBrush(room.created ? QBrush(color) : QBrush(Qt::NoBrush));
        painter.drawEllipse(dotRect);

        const qreal textLeft = dotRect.right() + 6;
        const QRectF nameRect(textLeft, y, inner.right() - textLeft, line);
        QFont bold = font();
        bold.setBold(true);
        painter.setFont(bold);
        painter.setPen(colors.color(QPalette::Text));
        painter.drawText(nameRect, Qt::AlignLeft | Qt::AlignVCenter, room.name);
        // The state takes the width the name leaves, elided rather than drawn over the name.
        const qreal nameWidth = QFontMetricsF(bold).horizontalAdvance(room.name) + 8;
        painter.setFont(font());
        painter.setPen(colors.color(QPalette::PlaceholderText));
        painter.drawText(nameRect, Qt::AlignRight | Qt::AlignVCenter,
            fontMetrics().elidedText(
                room.state, Qt::ElideRight, int(std::max<qreal>(0, nameRect.width() - nameWidth))));
        y += line;

        if (room.created) {
            const QRectF detailRect(textLeft, y, inner.right() - textLeft, line);
            painter.setPen(colors.color(QPalette::Text));
            QString detail
                = room.sockets == 1 ? tr("1 socket") : tr("%1 sockets").arg(room.sockets);
            if (room.hasQueue)
                detail += QStringLiteral(" · ") + tr("queue %1").arg(room.queueDepth);
            painter.drawText(detailRect, Qt::AlignLeft | Qt::AlignVCenter,
                fontMetrics().elidedText(detail, Qt::ElideRight, int(detailRect.width())));
        }
        y += line;
    }
}
} // namespace roomscope
