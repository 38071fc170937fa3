public import Allocation

/// Everything a simulation produced: the summary, the per-second series, each limit message and
/// each pause.
public struct SimulationResult: Sendable {
    public var summary: SimulationSummary
    public var chargerIDs: [ChargerID]
    public var samples: [SimulationSample]
    public var messages: [SimulationMessage]
    public var pauses: [SimulationPause]
}

/// One simulated second.
public struct SimulationSample: Sendable, Equatable {
    public var time: Double
    public var measurement: MeasurementState
    /// The effective limit per phase (fuse, cap, ripple control, API).
    public var limit: PhaseCurrents
    /// The true current per phase at the grid connection.
    public var grid: PhaseCurrents
    /// The true building load per phase.
    public var building: PhaseCurrents
    /// The building load the allocator estimated.
    public var buildingEstimate: PhaseCurrents
    /// Per charger, in the scenario's order: allocated target, last limit sent, draw per phase.
    public var allocation: [Double]
    public var sent: [Double]
    public var draw: [Double]
}

/// One limit sent to a charger.
public struct SimulationMessage: Sendable, Equatable {
    public var time: Double
    public var charger: ChargerID
    public var current: Double
    public var kind: LimitCommand.Kind
    /// Sent in steady state (no event, arrival or departure shortly before).
    public var steady: Bool
}

/// A stretch in which a charger was paused while its car still wanted energy.
public struct SimulationPause: Sendable, Equatable {
    public enum End: String, Sendable, Equatable, Codable {
        /// The charger was started again.
        case restarted
        /// The car left while paused.
        case departed
        /// The simulation ended while paused.
        case simulationEnded = "simulation_ended"
    }

    public var charger: ChargerID
    public var vehicle: String
    public var start: Double
    public var end: Double
    public var endedBy: End

    public var duration: Double { end - start }
}
