#pragma once

#include <QToolBar>

class QComboBox;
class QLabel;
class QTimer;

namespace roomscope {

class SimulationController;

/// Run, Pause, Step, the speed selector, the virtual clock, the event rate and the "behind"
/// indicator, kept in step with a SimulationController.
class SimulationToolBar : public QToolBar
{
    Q_OBJECT

public:
    explicit SimulationToolBar(SimulationController *controller, QWidget *parent = nullptr);

    QAction *runAction() const { return m_run; }
    QAction *pauseAction() const { return m_pause; }
    QAction *stepAction() const { return m_step; }
    /// Run when paused, pause when running (Space); not shown on the toolbar itself.
    QAction *toggleAction() const { return m_toggle; }
    QComboBox *speedCombo() const { return m_speed; }
    QLabel *clockLabel() const { return m_clock; }
    QLabel *behindLabel() const { return m_behind; }

    /// The speed factors the selector offers, the last being SimulationController::kUnlimitedSpeed.
    static QList<double> speedFactors();
    static QString speedText(double factor);

private:
    void updateActions();
    void updateClock();
    void updateRates();
    void selectSpeed(double factor);

    SimulationController *m_controller;
    QAction *m_run = nullptr;
    QAction *m_pause = nullptr;
    QAction *m_step = nullptr;
    QAction *m_toggle = nullptr;
    QComboBox *m_speed = nullptr;
    QLabel *m_clock = nullptr;
    QLabel *m_rate = nullptr;
    QLabel *m_behind = nullptr;
    QAction *m_behindAction = nullptr; ///< shows or hides m_behind on the toolbar
    QTimer *m_rateTimer = nullptr;
};

} // namespace roomscope
