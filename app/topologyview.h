#pragma once

#include <QPointF>
#include <QRectF>
#include <QWidget>

#include <vector>

namespace roomscope {

class SimulationController;
class World;

/// The central view: each location as a box with its rooms' objects (sockets, queue depth,
/// state) and its clients, the KV central store's location, and a line with the one-way latency
/// between every pair of locations. It repaints once per frame. A click on a room selects it.
class TopologyView : public QWidget
{
    Q_OBJECT

public:
    explicit TopologyView(SimulationController *controller, QWidget *parent = nullptr);

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

    /// Outlines the room `name` as the selected one; an empty name outlines none.
    void setSelectedRoom(const QString &name);
    /// The area the room `name` was last painted in, or an empty rectangle.
    QRectF roomRect(const QString &name) const;

Q_SIGNALS:
    void roomClicked(const QString &name);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;

private:
    struct RoomBadge
    {
        QString name;
        QString state;
        int sockets = 0;
        int queueDepth = 0;
        bool hasQueue = false; ///< a kv-room room, which queues KV writes
        bool created = false;
        bool active = false;
    };
    struct LocationBox
    {
        QString name;
        int clientsOpen = 0;
        int clientsTotal = 0;
        bool centralStore = false;
        std::vector<RoomBadge> rooms;
        QRectF rect;
    };

    std::vector<LocationBox> collectBoxes(const World &world) const;
    void layoutBoxes(std::vector<LocationBox> &boxes, const QRectF &area) const;
    void paintLinks(
        QPainter &painter, const World &world, const std::vector<LocationBox> &boxes) const;
    void paintBox(QPainter &painter, const LocationBox &box);
    void paintSummary(QPainter &painter, const World &world) const;
    qreal boxHeight(const LocationBox &box) const;

    SimulationController *m_controller;
    QString m_selectedRoom;
    /// The painted area of each room, for clicks.
    std::vector<std::pair<QRectF, QString>> m_roomRects;
};

} // namespace roomscope
