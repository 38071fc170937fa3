/// An OCPP-J version LoadGuard speaks, named by its WebSocket subprotocol token.
///
/// Chargers offer one or more subprotocols in `Sec-WebSocket-Protocol`; the proxy offers the same list
/// upstream and completes the charger's upgrade with the one the CSMS chose. Tokens are compared exactly
/// (RFC 6455 subprotocol names are case-sensitive, and the answer must repeat a token the client sent).
public enum OCPPVersion: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case v16 = "ocpp1.6"
    case v201 = "ocpp2.0.1"
    case v21 = "ocpp2.1"

    /// Every version, most preferred first: 2.1, then 2.0.1, then 1.6.
    public static let preferenceOrder: [OCPPVersion] = [.v21, .v201, .v16]

    /// `true` for 2.0.1 and 2.1, which share the message model (EVSEs, `TransactionEvent`, `idToken`).
    public var isTwoX: Bool { self != .v16 }

    /// The version number as people write it: `1.6`, `2.0.1`, `2.1`.
    public var number: String { String(rawValue.dropFirst("ocpp".count)) }

    private var rank: Int {
        switch self {
        case .v16: 0
        case .v201: 1
        case .v21: 2
        }
    }

    /// Orders by preference: `.v16 < .v201 < .v21`.
    public static func < (lhs: OCPPVersion, rhs: OCPPVersion) -> Bool { lhs.rank < rhs.rank }

    /// Splits a `Sec-WebSocket-Protocol` header value into its tokens.
    ///
    /// The value is a comma-separated list; whitespace around tokens is dropped and empty elements are
    /// skipped, so `" ocpp2.0.1 ,ocpp1.6,,"` gives `["ocpp2.0.1", "ocpp1.6"]`. Several header lines are
    /// parsed one by one and concatenated by the caller.
    public static func subprotocols(inHeaderValue value: String) -> [String] {
        value.split(separator: ",", omittingEmptySubsequences: true).compactMap { element in
            let token = element.trimmingWhitespace()
            return token.isEmpty ? nil : String(token)
        }
    }

    /// The charger's offered subprotocols filtered to the versions LoadGuard speaks, in the charger's order,
    /// each once.
    ///
    /// - Parameter offered: tokens as sent by the charger (see ``subprotocols(inHeaderValue:)``).
    /// - Returns: the versions to offer upstream, in the order the charger offered them; empty when the
    ///   charger offered nothing LoadGuard speaks (the upgrade is then refused).
    public static func negotiate(offered: [String]) -> [OCPPVersion] {
        var result: [OCPPVersion] = []
        for token in offered {
            if let version = OCPPVersion(rawValue: token), !result.contains(version) {
                result.append(version)
            }
        }
        return result
    }

    /// The version LoadGuard prefers among those offered (2.1 > 2.0.1 > 1.6), or `nil` when none is spoken.
    ///
    /// Used when the charger must be answered without the CSMS's choice (upstream unreachable during the
    /// handshake and no version negotiated before, or standalone mode).
    public static func preferred(offered: [String]) -> OCPPVersion? {
        negotiate(offered: offered).max()
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and horizontal tabs (HTTP optional whitespace).
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
