#include "headlessrun.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    if (argc > 1 && QByteArray(argv[1]) == "run") {
        QCoreApplication application(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("roomscope"));
        return roomscope::runHeadless(QCoreApplication::arguments());
    }
    return 0;
}
