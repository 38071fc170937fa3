import ArgumentParser
import Foundation
import LoadGuard

/// `loadguard simulate`: runs a scenario through the real allocator and dispatch rules with a
/// plant model, far faster than real time, and prints a summary.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a site scenario in closed loop through the allocator and print a summary.",
        discussion: """
            The scenario (YAML) describes the site, its chargers, the cars that come and go and events \
            such as ripple-control steps, API limits, building-load steps and meter faults. \
            See Examples/scenarios/ and docs/allocation.md.
            """
    )

    @Option(name: .long, help: "The scenario file (YAML).")
    var scenario: String

    @Option(name: .long, help: "Write the per-second time series to this CSV file.")
    var csv: String?

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        let loaded = try ScenarioLoader.load(path: scenario)
        let result = SimulationRunner(scenario: loaded).run()
        if let csv {
            do {
                try result.csv().write(toFile: csv, atomically: true, encoding: .utf8)
            } catch {
                throw SimulateError(message: "cannot write the CSV to \(csv): \(error.localizedDescription)")
            }
        }
        if json {
            print(try result.summaryJSON())
        } else {
            print(result.textSummary(), terminator: "")
        }
    }
}

/// A failure of `loadguard simulate` outside the scenario file.
struct SimulateError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
