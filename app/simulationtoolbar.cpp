#include "simulationtoolbar.h"

#include "highlightdelegate.h"
#include "simulationcontroller.h"
#include "valuetext.h"

#include <QAction>
#include <QComboBox>
#include <QFontDatabase>
#include <QLabel>
#include <QLocale>
#include <QStyle>
#include <QTimer>

#include <cmath>

namespace roomscope {

namespace {

/// How often the event rate and the behind indicator are redrawn. Every frame would flicker.
constexpr int kRateRefreshMs = 250;

QLabel *createStatusLabel(const QString &objectName, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setContentsMargins(8, 0, 8, 0);
    return label;
}

} // namespace

QList<double> SimulationToolBar::speedFactors()
{
    return { 0.1, 0.25, 0.5, 1, 2, 5, 10, 100, 1000, SimulationController::kUnlimitedSpeed };
}

QString SimulationToolBar::speedText(double factor)
{
    if (std::isinf(factor))
        return tr("As fast as possible");
    return QStringLiteral("%1×").arg(QLocale().toString(factor, 'g', 4));
}

SimulationToolBar::SimulationToolBar(SimulationController *controller, QWidget *parent)
    : QToolBar(tr("Simulation"), parent)
    , m_controller(controller)
{
    setObjectName(QStringLiteral("simulationToolBar"));
    setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

    m_run = addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Run"));
    m_run->setToolTip(tr("Run the simulation (Space)"));
    m_pause = addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("&Pause"));
    m_pause->setToolTip(tr("Pause the simulation (Space)"));
    m_step = addAction(style()->standardIcon(QStyle::SP_MediaSkipForward), tr("&Step"));
    m_step->setShortcuts({ QKeySequence(Qt::Key_F10), QKeySequence(Qt::CTRL | Qt::Key_Period) });
    m_step->setToolTip(tr("Run to the next event the event log shows (F10 or Ctrl+.)"));
    m_toggle = new QAction(tr("Run or Pause"), this);
    m_toggle->setShortcut(QKeySequence(Qt::Key_Space));

    addSeparator();
    m_speed = new QComboBox(this);
    m_speed->setObjectName(QStringLiteral("speedCombo"));
    m_speed->setToolTip(tr("Virtual seconds per wall-clock second"));
    for (double factor : speedFactors())
        m_speed->addItem(speedText(factor), factor);
    addWidget(m_speed);

    addSeparator();
    m_clock = createStatusLabel(QStringLiteral("clockLabel"), this);
    m_clock->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_clock->setToolTip(tr("Virtual time, and the time since the run started"));
    addWidget(m_clock);
    m_rate = createStatusLabel(QStringLiteral("rateLabel"), this);
    m_rate->setToolTip(tr("Simulated events run per wall-clock second"));
    addWidget(m_rate);
    m_behind = createStatusLabel(QStringLiteral("behindLabel"), this);
    m_behind->setAutoFillBackground(true);
    QPalette behindColors = m_behind->palette();
    behindColors.setColor(QPalette::Window, HighlightDelegate::warningColor(behindColors));
    m_behind->setPalette(behindColors);
    m_behind->setToolTip(tr("The simulation cannot keep up with the chosen speed; virtual time "
                            "advances as fast as the frame budget allows."));
    m_behindAction = addWidget(m_behind);
    m_behindAction->setVisible(false);

    connect(m_run, &QAction::triggered, controller, &SimulationController::run);
    connect(m_pause, &QAction::triggered, controller, &SimulationController::pause);
    connect(m_step, &QAction::triggered, controller, &SimulationController::step);
    connect(m_toggle, &QAction::triggered, controller, &SimulationController::toggleRun);
    connect(m_speed, &QComboBox::currentIndexChanged, this,
        [this] { m_controller->setSpeed(m_speed->currentData().toDouble()); });
    connect(controller, &SimulationController::speedChanged, this, &SimulationToolBar::selectSpeed);
    connect(controller, &SimulationController::runStateChanged, this,
        &SimulationToolBar::updateActions);
    connect(
        controller, &SimulationController::worldChanged, this, &SimulationToolBar::updateActions);
    connect(controller, &SimulationController::worldChanged, this, &SimulationToolBar::updateClock);
    connect(controller, &SimulationController::advanced, this, &SimulationToolBar::updateClock);
    connect(controller, &SimulationController::advanced, this, &SimulationToolBar::updateActions);
    connect(
        controller, &SimulationController::behindChanged, this, &SimulationToolBar::updateRates);
    connect(
        controller, &SimulationController::runStateChanged, this, &SimulationToolBar::updateRates);

    m_rateTimer = new QTimer(this);
    m_rateTimer->setInterval(kRateRefreshMs);
    connect(m_rateTimer, &QTimer::timeout, this, &SimulationToolBar::updateRates);
    m_rateTimer->start();

    selectSpeed(controller->speed());
    updateActions();
    updateClock();
    updateRates();
}

void SimulationToolBar::selectSpeed(double factor)
{
    const int index = m_speed->findData(factor);
    if (index >= 0 && index != m_speed->currentIndex())
        m_speed->setCurrentIndex(index);
}

void SimulationToolBar::updateActions()
{
    const bool running = m_controller->isRunning();
    const World *world = m_controller->world();
    m_run->setEnabled(!running && m_controller->canRun());
    m_pause->setEnabled(running);
    m_step->setEnabled(world && world->simulation().hasPendingEvents());
    m_toggle->setEnabled(world != nullptr);
}

void SimulationToolBar::updateClock()
{
    const World *world = m_controller->world();
    if (!world) {
        m_clock->setText(tr("no scenario"));
        return;
    }
    const Simulation &simulation = world->simulation();
    m_clock->setText(QStringLiteral("%1, %2").arg(
        formatClock(simulation.now()), formatRunOffset(simulation.now(), simulation.start())));
}

void SimulationToolBar::updateRates()
{
    if (!m_controller->isRunning()) {
        m_rate->setText(m_controller->runState() == SimulationController::RunState::Finished
                ? tr("finished")
                : tr("paused"));
        m_behindAction->setVisible(false);
        return;
    }
    const QLocale locale;
    m_rate->setText(
        tr("%1 events/s").arg(locale.toString(qRound64(m_controller->eventsPerSecond()))));
    if (m_controller->isBehind()) {
        m_behind->setText(
            tr("Behind: %1 of %2")
                .arg(speedText(m_controller->achievedSpeed()), speedText(m_controller->speed())));
        m_behindAction->setVisible(true);
    } else {
        m_behindAction->setVisible(false);
    }
}

} // namespace roomscope
