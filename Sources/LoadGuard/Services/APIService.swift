import Foundation
public import Hummingbird
public import Logging
import NIOCore
import OCPP
public import OCPPProxy

/// The REST API (`/api/v1`), served by Hummingbird.
///
/// Every write needs `Authorization: Bearer <api.token>`; reads too unless `public_read`. Errors
/// are JSON objects `{"error": {"message": …}}` with a message a person can act on.
public enum LoadGuardAPI {
    /// Builds the API application for `proxy`.
    public static func application(
        listen host: String,
        port: Int,
        token: String?,
        publicRead: Bool,
        proxy: OCPPProxy,
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: BearerTokenMiddleware(token: token, publicRead: publicRead))
        let api = router.group("api/v1")
        api.get("chargers") { _, _ -> Response in
            let chargers = await proxy.connectedChargers().map {
                ChargerView(id: $0.id, connected: true, ocppVersion: $0.version.number, remoteAddress: $0.remoteAddress, upstreamConnected: $0.upstreamConnected)
            }
            return try jsonResponse(chargers)
        }
        api.post("chargers/:id/calls") { request, context -> Response in
            let id = try context.parameters.require("id")
            let body = try await request.body.collect(upTo: proxy.configuration.maxMessageSize)
            let call = try InjectedCallRequest(body: Array(body.readableBytesView))
            let outcome: InjectedCallOutcome
            do {
                outcome = try await proxy.call(chargerID: id, action: call.action, payload: call.payload)
            } catch let error as InjectedCallError {
                switch error {
                case .notConnected: throw APIError(.notFound, "charger \(id) is not connected")
                case .rejected(let reason): throw APIError(.serviceUnavailable, reason)
                }
            }
            switch outcome {
            case .result(let payload):
                return rawJSONResponse(Array("{\"result\":".utf8) + payload + Array("}".utf8))
            case .callError(let code, let description, let details):
                let prefix = "{\"error\":{\"code\":\(jsonString(code)),\"description\":\(jsonString(description)),\"details\":"
                return rawJSONResponse(Array(prefix.utf8) + (details.isEmpty ? Array("{}".utf8) : details) + Array("}}".utf8))
            case .timedOut:
                throw APIError(.gatewayTimeout, "charger \(id) did not answer \(call.action) in time")
            case .chargerDisconnected:
                throw APIError(.badGateway, "charger \(id) disconnected before answering \(call.action)")
            }
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "LoadGuard"),
            logger: logger
        )
    }
}

/// One charger as the API shows it.
struct ChargerView: Codable {
    var id: String
    var connected: Bool
    var ocppVersion: String
    var remoteAddress: String
    var upstreamConnected: Bool

    enum CodingKeys: String, CodingKey {
        case id, connected
        case ocppVersion = "ocpp_version"
        case remoteAddress = "remote_address"
        case upstreamConnected = "upstream_connected"
    }
}

/// `{"action": "...", "payload": {...}}` for an injected call.
struct InjectedCallRequest {
    var action: String
    var payload: [UInt8]

    init(body: [UInt8]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw APIError(.badRequest, "expected a JSON object {\"action\": \"…\", \"payload\": {…}}")
        }
        guard let action = object["action"] as? String, !action.isEmpty else {
            throw APIError(.badRequest, "expected \"action\" to be the OCPP action name, e.g. \"SetChargingProfile\"")
        }
        let payload = object["payload"] ?? [String: Any]()
        guard payload is [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: payload, options: [.withoutEscapingSlashes])
        else {
            throw APIError(.badRequest, "expected \"payload\" to be a JSON object")
        }
        self.action = action
        self.payload = Array(data)
    }
}

/// An API error with a message a person can act on, sent as `{"error": {"message": …}}`.
struct APIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"error\":{\"message\":\(jsonString(message))}}"))
        )
    }
}

/// Bearer-token check: writes always need the token; reads need it unless `publicRead`.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let publicRead: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isRead = request.method == .get || request.method == .head
        if isRead && publicRead { return try await next(request, context) }
        guard let token else {
            throw APIError(.unauthorized, "the API has no token configured (api.token); set one to use this endpoint")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            BasicAuth.constantTimeEquals(Array(header.dropFirst(7).utf8), Array(token.utf8))
        else {
            throw APIError(.unauthorized, "missing or wrong bearer token: send Authorization: Bearer <api.token>")
        }
        return try await next(request, context)
    }
}

func jsonResponse(_ value: some Encodable) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return rawJSONResponse(Array(try encoder.encode(value)))
}

func rawJSONResponse(_ bytes: [UInt8]) -> Response {
    Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: bytes))
    )
}

func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
