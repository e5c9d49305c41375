import AishShell
import Glibc

// The only place that exits (STYLE 7).
exit(AishMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
