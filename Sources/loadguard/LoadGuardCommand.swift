import ArgumentParser

/// The `loadguard` command line: one command with a subcommand per job.
@main
struct LoadGuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadguard",
        abstract: "Load manager for EV charging sites: OCPP proxy, energy meter and current allocator.",
        subcommands: [
            RunCommand.self,
            CheckConfigCommand.self,
            RecordCommand.self,
            MeasureCommand.self,
            SimulateCommand.self,
            SimulateChargersCommand.self,
            ReplayCommand.self,
        ]
    )
}
