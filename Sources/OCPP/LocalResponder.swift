public import Foundation

/// The answers LoadGuard gives a charger itself, when there is no CSMS (standalone) or the CSMS link is down.
///
/// Principles:
/// - Answer only what can be answered truthfully. While the CSMS is unreachable a `BootNotification` is
///   answered `Pending` (never a made-up `Accepted`), and a 1.6 `StartTransaction` is not answered at all
///   (only the CSMS can assign its `transactionId`).
/// - Never answer a transaction-related call (`StartTransaction`, `StopTransaction`, `TransactionEvent`,
///   `MeterValues`) with a CALLERROR: a charger may then discard it, and billing data is lost.
/// - What the CSMS must see is held (``Decision/answer(_:hold:)`` with `hold: true`, or ``Decision/hold``)
///   and delivered in order when the link is back; its later response is then consumed if the charger was
///   already answered.
///
/// | action | standalone | upstream down |
/// |---|---|---|
/// | BootNotification | `Accepted`, heartbeat interval | `Pending`, retry interval, held |
/// | Heartbeat | current time | current time, not held |
/// | StatusNotification, MeterValues, notifications (1) | `{}` | `{}`, held |
/// | StartTransaction (1.6) | `Accepted`, transaction id LoadGuard assigns | not answered, held |
/// | StopTransaction (1.6) | `{}` | `{}`, held |
/// | TransactionEvent (2.x) | `{}` (+ `idTokenInfo` `Accepted` if an idToken was sent) | `{}`, held |
/// | Authorize | `Accepted` | CALLERROR `InternalError` (CSMS unreachable) |
/// | DataTransfer | `UnknownVendorId` | CALLERROR `InternalError` |
/// | other known actions | CALLERROR `NotSupported` | CALLERROR `InternalError` |
/// | unknown actions | CALLERROR `NotImplemented` | CALLERROR `NotImplemented` |
/// | SEND (2.1) | discarded | discarded |
///
/// (1) Notifications whose confirmation is empty: FirmwareStatusNotification, DiagnosticsStatusNotification,
/// SecurityEventNotification, LogStatusNotification, SignedFirmwareStatusNotification (1.6); NotifyEvent,
/// NotifyReport, NotifyMonitoringReport, NotifyChargingLimit, ClearedChargingLimit, ReportChargingProfiles,
/// ReservationStatusUpdate, and the like (2.x, see ``emptyConfirmationActions(for:)``).
///
/// With the link up (``Mode/upstreamConnected``) every call is ``Decision/forward``.
public struct LocalResponder: Sendable {
    /// Whether and how LoadGuard reaches a CSMS for this charger.
    public enum Mode: Sendable, Hashable {
        /// No upstream configured: LoadGuard is the charger's CSMS.
        case standalone
        /// An upstream is configured but not connected.
        case upstreamDown
        /// The upstream is connected: frames are forwarded.
        case upstreamConnected
    }

    /// Intervals sent to the charger.
    public struct Configuration: Sendable, Hashable {
        /// Heartbeat interval in seconds sent with an accepted BootNotification (standalone).
        public var heartbeatInterval: Int
        /// Seconds after which a charger told `Pending` sends its BootNotification again (upstream down).
        public var pendingRetryInterval: Int

        public init(heartbeatInterval: Int = 300, pendingRetryInterval: Int = 30) {
            self.heartbeatInterval = heartbeatInterval
            self.pendingRetryInterval = pendingRetryInterval
        }
    }

    /// What the proxy does with a call from the charger.
    public enum Decision: Sendable, Hashable {
        /// Send these bytes (a CALLRESULT or CALLERROR) to the charger; if `hold`, also keep the call for the
        /// CSMS (and consume the CSMS's later answer).
        case answer([UInt8], hold: Bool)
        /// Do not answer; keep the call for the CSMS and pass its answer to the charger when it comes.
        case hold
        /// Forward the frame to the CSMS as usual.
        case forward
        /// Neither answer nor keep (a 2.1 SEND while no CSMS is reachable: SENDs are never answered).
        case discard
    }

    public let configuration: Configuration
    /// The transaction id the next standalone 1.6 `StartTransaction` gets.
    public private(set) var nextTransactionID: Int

    /// - Parameter firstTransactionID: the first 1.6 transaction id assigned in standalone mode; the caller
    ///   should continue from the last one it persisted, so ids do not repeat after a restart.
    public init(configuration: Configuration = Configuration(), firstTransactionID: Int = 1) {
        self.configuration = configuration
        self.nextTransactionID = firstTransactionID
    }

    /// Decides what to do with a frame the charger sent.
    ///
    /// - Parameters:
    ///   - frame: the frame's bytes.
    ///   - envelope: its envelope. Frames that are not CALL or SEND give ``Decision/forward``: responses are
    ///     routed elsewhere.
    ///   - version: the charger's negotiated version.
    ///   - mode: standalone, upstream down, or connected.
    ///   - now: the current time, for `currentTime` fields.
    public mutating func decide(
        frame: [UInt8],
        envelope: Envelope,
        version: OCPPVersion,
        mode: Mode,
        now: Date
    ) -> Decision {
        guard mode != .upstreamConnected, let action = envelope.action else { return .forward }
        if envelope.messageType == .send { return .discard }
        let id = envelope.messageID
        let time = OCPPTimestamp.format(now)
        let standalone = mode == .standalone

        func result(_ json: String, hold: Bool) -> Decision {
            let payload: [UInt8] = Array(json.utf8)
            return .answer(Frame.callResult(id: id, payload: payload), hold: hold)
        }

        switch action {
        case "BootNotification":
            return standalone
                ? result(
                    #"{"currentTime":"\#(time)","interval":\#(configuration.heartbeatInterval),"status":"Accepted"}"#,
                    hold: false
                )
                : result(
                    #"{"currentTime":"\#(time)","interval":\#(configuration.pendingRetryInterval),"status":"Pending"}"#,
                    hold: true
                )
        case "Heartbeat":
            return result(#"{"currentTime":"\#(time)"}"#, hold: false)
        case "StartTransaction" where version == .v16:
            guard standalone else { return .hold }
            let transactionID = nextTransactionID
            nextTransactionID = nextTransactionID == Int(Int32.max) ? 1 : nextTransactionID + 1
            return result(#"{"idTagInfo":{"status":"Accepted"},"transactionId":\#(transactionID)}"#, hold: false)
        case "TransactionEvent" where version.isTwoX:
            if standalone, Self.containsIDToken(envelope.payload(of: frame)) {
                return result(#"{"idTokenInfo":{"status":"Accepted"}}"#, hold: false)
            }
            return result("{}", hold: !standalone)
        case _ where Self.emptyConfirmationActions(for: version).contains(action):
            return result("{}", hold: !standalone)
        case "Authorize" where standalone:
            return result(
                version.isTwoX ? #"{"idTokenInfo":{"status":"Accepted"}}"# : #"{"idTagInfo":{"status":"Accepted"}}"#,
                hold: false
            )
        case "DataTransfer" where standalone:
            return result(#"{"status":"UnknownVendorId"}"#, hold: false)
        case _ where !Self.chargerActions(for: version).contains(action):
            return .answer(
                Frame.callError(
                    id: id,
                    code: .notImplemented,
                    description: "\(action) is not an OCPP \(version.number) action a charging station sends"
                ),
                hold: false
            )
        case _ where standalone:
            return .answer(
                Frame.callError(
                    id: id,
                    code: .notSupported,
                    description: "\(action) is not supported by LoadGuard in standalone mode"
                ),
                hold: false
            )
        default:
            return .answer(
                Frame.callError(
                    id: id,
                    code: .internalError,
                    description: "CSMS unreachable: LoadGuard cannot answer \(action) on its behalf"
                ),
                hold: false
            )
        }
    }

    /// Actions a charging station sends whose confirmation may be empty and that LoadGuard answers with `{}`.
    /// `StopTransaction` (1.6) and `TransactionEvent` (2.x) are among them.
    public static func emptyConfirmationActions(for version: OCPPVersion) -> Set<String> {
        switch version {
        case .v16: v16EmptyConfirmations
        case .v201: v201EmptyConfirmations
        case .v21: v21EmptyConfirmations
        }
    }

    /// Every action a charging station may send in `version` (the charger-to-CSMS messages of the
    /// specification, with the 1.6 security extension).
    public static func chargerActions(for version: OCPPVersion) -> Set<String> {
        switch version {
        case .v16: v16ChargerActions
        case .v201: v201ChargerActions
        case .v21: v21ChargerActions
        }
    }

    private static let v16EmptyConfirmations: Set<String> = [
        "StatusNotification", "MeterValues", "StopTransaction", "FirmwareStatusNotification",
        "DiagnosticsStatusNotification", "SecurityEventNotification", "LogStatusNotification",
        "SignedFirmwareStatusNotification",
    ]
    private static let v201EmptyConfirmations: Set<String> = [
        "StatusNotification", "MeterValues", "TransactionEvent", "FirmwareStatusNotification",
        "LogStatusNotification", "SecurityEventNotification", "NotifyEvent", "NotifyReport",
        "NotifyMonitoringReport", "NotifyChargingLimit", "ClearedChargingLimit", "NotifyCustomerInformation",
        "NotifyDisplayMessages", "PublishFirmwareStatusNotification", "ReportChargingProfiles",
        "ReservationStatusUpdate",
    ]
    private static let v21EmptyConfirmations: Set<String> = v201EmptyConfirmations.union([
        "BatterySwap", "NotifyDERAlarm", "NotifyDERStartStop", "NotifyPriorityCharging", "NotifySettlement",
        "ReportDERControl",
    ])
    private static let v16ChargerActions: Set<String> = v16EmptyConfirmations.union([
        "Authorize", "BootNotification", "DataTransfer", "Heartbeat", "StartTransaction", "SignCertificate",
    ])
    private static let v201ChargerActions: Set<String> = v201EmptyConfirmations.union([
        "Authorize", "BootNotification", "DataTransfer", "Heartbeat", "Get15118EVCertificate",
        "GetCertificateStatus", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "SignCertificate",
    ])
    private static let v21ChargerActions: Set<String> = v21EmptyConfirmations.union(v201ChargerActions).union([
        "ClosePeriodicEventStream", "GetCertificateChainStatus", "OpenPeriodicEventStream",
        "PullDynamicScheduleUpdate", "VatNumberValidation", "NotifyPeriodicEventStream",
    ])

    private struct IDTokenProbe: Decodable {
        struct Token: Decodable { var idToken: String }
        var idToken: Token?
    }

    private static func containsIDToken(_ payload: ArraySlice<UInt8>) -> Bool {
        (try? JSONDecoder().decode(IDTokenProbe.self, from: Data(payload)))?.idToken != nil
    }
}
