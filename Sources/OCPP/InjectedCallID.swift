/// Message ids for the calls LoadGuard injects towards a charger, in a namespace of their own.
///
/// Format: `lg-<token>-<counter>`, where `token` is 12 characters of `[a-z2-7]` drawn at random once per
/// process (60 bits) and `counter` counts per charger from 1. The longest id, with the counter at
/// `UInt64.max` (20 digits), is 3 + 12 + 1 + 20 = 36 characters: OCPP's limit for message ids.
///
/// Why a CSMS id cannot be mistaken for an injected one:
/// - The proxy never alters a CSMS frame, so it cannot rename colliding ids; instead routing never relies on
///   the format. ``ChargerCallQueue`` records the origin of every call it sends and routes a response by the
///   entry for that id (one call in flight per charger), so a CSMS call whose id happens to start with `lg-`
///   is still answered to the CSMS.
/// - The format only matters for responses that arrive after their call was given up (timed out or the
///   charger reconnected). Such a response is consumed only if its id carries this process's random token;
///   a CSMS would have to guess 60 random bits to produce one. Ids with the `lg-` prefix but another token
///   (from an earlier LoadGuard process) are forwarded like any unknown response, so a CSMS that really uses
///   the prefix loses nothing.
/// - CSMS implementations use UUIDs (`8-4-4-4-12` hexadecimal, no `l`/`g`) or decimal counters, neither of
///   which can start with `lg-`.
public struct InjectedCallIDs: Sendable, Hashable {
    /// The prefix of every injected id.
    public static let prefix = "lg-"
    /// Length of the per-process token.
    public static let tokenLength = 12
    /// The OCPP limit for a message id.
    public static let maximumIDLength = 36

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// This process's random token.
    public let token: String
    private let idPrefix: String
    /// The counter of the last id handed out by ``next()``.
    public private(set) var counter: UInt64

    /// Creates a generator with a given token (normally one per process, from ``randomToken(using:)``).
    ///
    /// - Precondition: `token` is ``tokenLength`` characters of `[a-z2-7]`.
    public init(token: String, startingAfter counter: UInt64 = 0) {
        precondition(
            InjectedCallIDs.isValidToken(token),
            "an injected-call token is \(InjectedCallIDs.tokenLength) characters of [a-z2-7], found '\(token)'"
        )
        self.token = token
        self.idPrefix = InjectedCallIDs.prefix + token + "-"
        self.counter = counter
    }

    /// A fresh random token.
    public static func randomToken(using generator: inout some RandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokenLength)
        for _ in 0..<tokenLength {
            bytes.append(alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `true` if `token` has the form of a token.
    public static func isValidToken(_ token: String) -> Bool {
        token.utf8.count == tokenLength && token.utf8.allSatisfy { alphabet.contains($0) }
    }

    /// The next id for this charger. Never repeats within the process: after `UInt64.max` calls it would wrap,
    /// which takes longer than the universe has existed at one call per nanosecond.
    public mutating func next() -> String {
        counter &+= 1
        return idPrefix + String(counter)
    }

    /// `true` if `id` was generated with this process's token (by any charger's generator).
    ///
    /// This is the rule for responses whose call is no longer in flight; a response to a call in flight is
    /// routed by the queue's own table, whatever its id looks like.
    public func isInjected(_ id: String) -> Bool {
        guard id.hasPrefix(idPrefix) else { return false }
        let digits = id.utf8.dropFirst(idPrefix.utf8.count)
        return !digits.isEmpty && digits.count <= 20 && digits.allSatisfy(\.isDigit)
    }

    /// `true` if `id` starts with the reserved prefix, whatever its token: it was probably injected by some
    /// LoadGuard process. For logs only; never for routing.
    public static func hasReservedPrefix(_ id: String) -> Bool {
        id.hasPrefix(prefix)
    }
}
