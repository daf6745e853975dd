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
/// between every pair of locations. It repaints once per frame.
class TopologyView : public QWidget
{
    Q_OBJECT

public:
    explicit TopologyView(SimulationController *controller, QWidget *parent = nullptr);

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct RoomBadge
    {
        QString name;
        QString state;
        int sockets = 0;
        int queueDepth = 0;
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
    void paintBox(QPainter &painter, const LocationBox &box) const;
    void paintSummary(QPainter &painter, const World &world) const;
    qreal boxHeight(const LocationBox &box) const;

    SimulationController *m_controller;
};

} // namespace roomscope
