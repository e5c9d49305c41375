/// `validate`, `config show|generate|diff`.
enum ConfigCommands {
    static let all: [CommandSpec] = []
}
