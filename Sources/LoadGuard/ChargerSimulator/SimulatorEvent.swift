public import OCPP

/// Something that happened to a simulated charger, for one log line each.
public enum SimulatorEvent: Sendable, Hashable, CustomStringConvertible {
    case connected(version: OCPPVersion)
    case connectionFailed(reason: String, retryInSeconds: Double)
    case disconnected
    /// The CSMS answered the BootNotification (`Accepted`, `Pending`, `Rejected`).
    case bootAnswered(status: String, interval: Int)
    /// The effective limit changed (amperes per phase).
    case limitChanged(from: EffectiveLimit, to: EffectiveLimit)
    case profileInstalled(purpose: String, id: Int, stackLevel: Int, outlet: Int)
    case profileRejected(reason: String)
    case profilesCleared(count: Int)
    case carArrived(energyNeeded: Double)
    case authorizationRefused(status: String)
    case sessionStarted(transactionID: String?)
    /// A 1.6 StartTransaction was answered with this id (it is not known before).
    case transactionIDAssigned(String)
    case sessionEnded(reason: String, energy: Double)
    case carLeft(reason: String)
    /// The CSMS answered one of the charger's calls with a CALLERROR.
    case callFailed(action: String, code: String, description: String)
    case callTimedOut(action: String, willRetry: Bool)
    /// A frame from the CSMS that is not OCPP-J or answers no call of the charger.
    case unexpectedFrame(reason: String)
    /// The CSMS sent a call the charger does not implement (answered NotImplemented).
    case unsupportedCall(action: String)
    case configurationChanged(key: String, value: String)
    case resetRequested(type: String)

    public var description: String {
        switch self {
        case .connected(let version): "connected with OCPP \(version.number)"
        case .connectionFailed(let reason, let delay):
            "connection failed: \(reason); retrying in \(decimalText(delay, digits: 1)) s"
        case .disconnected: "disconnected"
        case .bootAnswered(let status, let interval): "boot \(status), interval \(interval) s"
        case .limitChanged(let from, let to):
            "limit changed from \(decimalText(from.amperes, digits: 1)) A to \(to)"
        case .profileInstalled(let purpose, let id, let stackLevel, let outlet):
            "profile installed: \(purpose) #\(id) stack \(stackLevel) on \(outlet)"
        case .profileRejected(let reason): "profile rejected: \(reason)"
        case .profilesCleared(let count): "profiles cleared: \(count)"
        case .carArrived(let energy): "car arrived, needs \(decimalText(energy / 1000, digits: 1)) kWh"
        case .authorizationRefused(let status): "authorization refused: \(status)"
        case .sessionStarted(let id): "session started" + (id.map { ", transaction \($0)" } ?? "")
        case .transactionIDAssigned(let id): "transaction id \(id)"
        case .sessionEnded(let reason, let energy):
            "session ended (\(reason)), \(decimalText(energy / 1000, digits: 2)) kWh"
        case .carLeft(let reason): "car left (\(reason))"
        case .callFailed(let action, let code, let description): "\(action) failed: \(code) \(description)"
        case .callTimedOut(let action, let retry): "\(action) not answered" + (retry ? ", sending again" : ", dropped")
        case .unexpectedFrame(let reason): "unexpected frame: \(reason)"
        case .unsupportedCall(let action): "answered NotImplemented to \(action)"
        case .configurationChanged(let key, let value): "configuration \(key) = \(value)"
        case .resetRequested(let type): "reset \(type) requested (accepted, ignored)"
        }
    }
}

/// What a simulated charger is doing right now, for logs, the live page and tests.
public struct SimulatedChargerState: Sendable, Hashable {
    public enum Connection: String, Sendable, Hashable {
        case disconnected
        /// Connected, BootNotification not accepted yet (sent, Pending or Rejected).
        case booting
        case accepted
    }

    public var id: String
    public var version: OCPPVersion
    public var connection: Connection
    /// The connector status as last derived (1.6 names: `Available`, `Preparing`, `Charging`, `SuspendedEVSE`,
    /// `Finishing`).
    public var status: String
    public var limit: EffectiveLimit
    /// Amperes drawn on the charger's L1, L2, L3.
    public var currents: [Double]
    /// Watts.
    public var power: Double
    /// The energy register, Wh.
    public var energyRegister: Double
    public var carPresent: Bool
    /// Energy of the running session, Wh; `nil` outside sessions.
    public var sessionEnergy: Double?
    public var transactionID: String?

    public init(
        id: String,
        version: OCPPVersion,
        connection: Connection,
        status: String,
        limit: EffectiveLimit,
        currents: [Double],
        power: Double,
        energyRegister: Double,
        carPresent: Bool,
        sessionEnergy: Double?,
        transactionID: String?
    ) {
        self.id = id
        self.version = version
        self.connection = connection
        self.status = status
        self.limit = limit
        self.currents = currents
        self.power = power
        self.energyRegister = energyRegister
        self.carPresent = carPresent
        self.sessionEnergy = sessionEnergy
        self.transactionID = transactionID
    }
}

/// `value` with at most `digits` decimals, without trailing zeros.
func decimalText(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(rounded)
}
