public import OCPP

/// The decision on a charger's WebSocket upgrade request, made before any upstream connection.
///
/// States a request can end in (OCPP-J 1.6 §3, OCPP 2.0.1 Part 4 §3 and §5):
/// - path not `<prefix>/<id>`: **404** (no OCPP endpoint there);
/// - an id that breaks the identity rules (over 48 characters, containing `:`, not UTF-8): **400**;
/// - id not configured and unknown chargers not accepted: **404**;
/// - password configured and Basic auth missing or wrong: **401** with `WWW-Authenticate`;
/// - no subprotocol LoadGuard speaks: the upgrade is completed without `Sec-WebSocket-Protocol`
///   and the connection is closed at once, as the OCPP-J specifications say;
/// - otherwise accepted, with the offered versions in the charger's order.
public enum HandshakeDecision: Sendable, Equatable {
    case refuse(status: Int, reason: String)
    case acceptWithoutSubprotocol(chargerID: String)
    case accept(AcceptedHandshake)
}

/// An accepted upgrade: who the charger is and what it offered.
public struct AcceptedHandshake: Sendable, Equatable {
    public var chargerID: String
    public var policy: ChargerPolicy
    /// Versions offered by the charger that LoadGuard speaks, in the charger's order.
    public var offered: [OCPPVersion]
    /// The charger's `Authorization` header, forwarded upstream unless the policy replaces it.
    public var authorization: String?
}

/// Pure rules of the charger-facing upgrade: no sockets, tested exhaustively.
public struct HandshakeRules: Sendable {
    public var pathPrefix: String
    public var chargers: [String: ChargerPolicy]
    public var acceptUnknownChargers: Bool

    public init(pathPrefix: String, chargers: [String: ChargerPolicy], acceptUnknownChargers: Bool) {
        var prefix = pathPrefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.pathPrefix = prefix
        self.chargers = chargers
        self.acceptUnknownChargers = acceptUnknownChargers
    }

    /// The longest charge point identity OCPP allows (`identifierString[48]`).
    public static let maxIdentityLength = 48

    /// Decides on a request for `uri` with the given headers (`name`, `value` pairs; names are
    /// compared case-insensitively).
    public func evaluate(uri: String, headers: [(name: String, value: String)]) -> HandshakeDecision {
        let id: String
        switch Self.chargerID(uri: uri, prefix: pathPrefix) {
        case .failure(let failure): return .refuse(status: failure.status, reason: failure.description)
        case .success(let value): id = value
        }
        let policy: ChargerPolicy
        if let known = chargers[id] {
            policy = known
        } else if acceptUnknownChargers {
            policy = ChargerPolicy(id: id)
        } else {
            return .refuse(status: 404, reason: "unknown charger id")
        }
        let authorization = headers.first { $0.name.lowercased() == "authorization" }?.value
        if let password = policy.password {
            guard let authorization, let credentials = BasicAuth.decode(authorization) else {
                return .refuse(status: 401, reason: "Basic authorization required")
            }
            // The user name must be the charger's identity (OCPP security profiles 1 and 2); the
            // password is compared in constant time.
            let userMatches = BasicAuth.constantTimeEquals(Array(credentials.user.utf8), Array(id.utf8))
            let passwordMatches = BasicAuth.constantTimeEquals(Array(credentials.password.utf8), Array(password.utf8))
            guard userMatches && passwordMatches else {
                return .refuse(status: 401, reason: "wrong charger credentials")
            }
        }
        var offered: [String] = []
        for header in headers where header.name.lowercased() == "sec-websocket-protocol" {
            offered += OCPPVersion.subprotocols(inHeaderValue: header.value)
        }
        let versions = OCPPVersion.negotiate(offered: offered)
        guard !versions.isEmpty else { return .acceptWithoutSubprotocol(chargerID: id) }
        return .accept(
            AcceptedHandshake(chargerID: id, policy: policy, offered: versions, authorization: authorization)
        )
    }

    /// The charger identity from the request target: the percent-decoded segment after the prefix.
    /// A doubled slash (`//id`, seen on real chargers) is tolerated.
    static func chargerID(uri: String, prefix: String) -> Result<String, HandshakeFailure> {
        var path = Substring(uri)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        let notHere = HandshakeFailure(
            status: 404,
            "no OCPP endpoint here: chargers connect to \(prefix)/<chargePointId>"
        )
        guard path.hasPrefix(prefix) else { return .failure(notHere) }
        path = path.dropFirst(prefix.count)
        guard path.hasPrefix("/") else { return .failure(notHere) }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard !path.isEmpty, !path.contains("/") else { return .failure(notHere) }
        guard let id = String(path).removingPercentEncodingStrict() else {
            return .failure(HandshakeFailure("charger id is not valid percent-encoded UTF-8"))
        }
        guard id.count <= maxIdentityLength else {
            return .failure(HandshakeFailure("charger id longer than \(maxIdentityLength) characters"))
        }
        guard !id.contains(":") else { return .failure(HandshakeFailure("charger id must not contain ':'")) }
        return .success(id)
    }
}

/// Why a request target is not a charger's OCPP URL: 404 for a path outside the OCPP endpoint,
/// 400 for an identity that breaks OCPP's rules.
public struct HandshakeFailure: Error, Equatable, CustomStringConvertible {
    public var status: Int
    public var description: String
    init(status: Int = 400, _ description: String) {
        self.status = status
        self.description = description
    }
}

/// HTTP Basic authentication as chargers use it (RFC 7617; OCPP security profiles 1 and 2).
public enum BasicAuth {
    /// User and password from an `Authorization: Basic …` value, or `nil` when it is not Basic.
    public static func decode(_ header: String) -> (user: String, password: String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let bytes = Base64.decode(String(parts[1]).trimmingCharacters(in: " \t"))
        else { return nil }
        // OCPP 2.0.1 allows any bytes in the password; decode as UTF-8 where possible, else Latin-1.
        let text = String(decoding: bytes, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// `Basic base64(user:password)`.
    public static func encode(user: String, password: String) -> String {
        "Basic " + Base64.encode(Array("\(user):\(password)".utf8))
    }

    /// Compares without an early exit, so the time taken does not tell how many leading bytes matched.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// Base64 without Foundation's `Data`, for headers.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "/"), UInt8(ascii: "_"): values.append(63)
            case UInt8(ascii: "="): break
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}

extension String {
    /// Percent-decoding that fails on malformed escapes or invalid UTF-8 instead of guessing.
    func removingPercentEncodingStrict() -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2, let hi = hexValue(iterator.popFirst()!),
                    let lo = hexValue(iterator.popFirst()!)
                else { return nil }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
