public import Allocation
public import Foundation
public import Hardware
public import Hummingbird
public import Logging
import Metering
import NIOCore
import OCPP
public import OCPPProxy
import Prometheus

/// The REST API (`/api/v1`), served by Hummingbird.
///
/// Every write needs `Authorization: Bearer <api.token>`; reads too unless `public_read`. Errors
/// are JSON objects `{"error": {"message": …}}` with a message a person can act on.
public enum LoadGuardAPI {
    /// What the API serves from.
    public struct Context: Sendable {
        public var proxy: OCPPProxy
        public var controller: SiteController
        public var meter: MeterState
        public var simulatedInputs: SimulatedDigitalInputs?
        public var simulatedMeter: Bool
        public var metrics: LoadGuardMetrics
        public var startedAt: Date

        public init(
            proxy: OCPPProxy,
            controller: SiteController,
            meter: MeterState,
            simulatedInputs: SimulatedDigitalInputs?,
            simulatedMeter: Bool,
            metrics: LoadGuardMetrics
        ) {
            self.proxy = proxy
            self.controller = controller
            self.meter = meter
            self.simulatedInputs = simulatedInputs
            self.simulatedMeter = simulatedMeter
            self.metrics = metrics
            self.startedAt = Date()
        }
    }

    /// Builds the API application.
    public static func application(
        listen host: String,
        port: Int,
        token: String?,
        publicRead: Bool,
        context api: Context,
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        router.get("metrics") { _, _ -> Response in
            await api.metrics.refresh(api)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: api.metrics.registry.emitToBuffer()))
            )
        }
        router.get("api/v1/openapi.json") { _, _ -> Response in
            rawJSONResponse(Array(OpenAPIDocument.json.utf8))
        }
        let v1 = router.group("api/v1").add(middleware: BearerTokenMiddleware(token: token, publicRead: publicRead))
        v1.get("status") { _, _ -> Response in
            let chargers = await api.proxy.connectedChargers()
            let meter = await api.meter
            return try jsonResponse(
                StatusView(
                    version: LoadGuardVersion.current,
                    uptimeSeconds: Int(Date().timeIntervalSince(api.startedAt)),
                    chargersConnected: chargers.count,
                    meterStale: await meter.stale,
                    meterError: await meter.lastError,
                    measurement: await api.controller.lastAllocation?.measurement.rawValue,
                    senseToSendSeconds: await api.controller.senseToSend,
                    ripple: await api.controller.rippleState()
                )
            )
        }
        v1.get("meter") { _, _ -> Response in
            guard let reading = await api.meter.latest else {
                throw APIError(.serviceUnavailable, "no meter reading yet: the meter has not delivered a full second")
            }
            return try jsonResponse(reading, snakeCase: true)
        }
        v1.get("meter/registers") { _, _ -> Response in
            try jsonResponse(await api.meter.registers.values, snakeCase: true)
        }
        v1.get("meter/profile") { _, _ -> Response in
            let intervals = await api.meter.profile.suffix(96 * 2)
            let partial = await api.meter.partialInterval
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            struct ProfileView: Encodable {
                var intervals: [LoadProfileInterval]
                var current: LoadProfileInterval?
            }
            return rawJSONResponse(
                Array(try encoder.encode(ProfileView(intervals: Array(intervals), current: partial)))
            )
        }
        v1.get("chargers") { _, _ -> Response in
            try jsonResponse(await api.controller.chargerViews(connected: await api.proxy.connectedChargers()))
        }
        v1.get("allocation") { _, _ -> Response in
            guard let allocation = await api.controller.lastAllocation else {
                throw APIError(.serviceUnavailable, "no allocation yet")
            }
            return try jsonResponse(allocation, snakeCase: true)
        }
        v1.get("limits") { _, _ -> Response in
            try jsonResponse(await api.controller.limitRecords(), snakeCase: true)
        }
        v1.post("limits") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let command = try LimitRequest(body: Array(body.readableBytesView))
            let record = await api.controller.setLimit(
                source: command.source,
                level: command.level,
                expiresAfter: command.expiresAfter
            )
            return try jsonResponse(record, snakeCase: true)
        }
        v1.delete("limits/:source") { _, context -> Response in
            let source = try context.parameters.require("source")
            guard await api.controller.removeLimit(source: source) else {
                throw APIError(.notFound, "no limit from source \(source)")
            }
            return Response(status: .noContent)
        }
        v1.get("inputs") { _, _ -> Response in
            try jsonResponse(await api.controller.rippleState())
        }
        v1.put("inputs") { request, _ -> Response in
            guard let inputs = api.simulatedInputs else {
                throw APIError(
                    .conflict,
                    "inputs are read from GPIO (inputs.source: gpiod); they can be set only when simulated"
                )
            }
            let body = try await request.body.collect(upTo: 4096)
            let object = try jsonObject(body)
            let input1 = object["input1"] as? Bool
            let input2 = object["input2"] as? Bool
            let pattern = object["pattern"] as? String
            if let pattern, pattern.count != 2 || !pattern.allSatisfy({ $0 == "0" || $0 == "1" }) {
                throw APIError(.badRequest, "expected \"pattern\" as two digits 0/1 such as \"10\"")
            }
            if input1 == nil && input2 == nil && pattern == nil {
                throw APIError(.badRequest, "expected {\"input1\": true, \"input2\": false} or {\"pattern\": \"10\"}")
            }
            let state: DigitalInputState
            if let pattern {
                let digits = Array(pattern)
                state = await inputs.set(input1: digits[0] == "1", input2: digits[1] == "1")
            } else {
                state = await inputs.set(input1: input1, input2: input2)
            }
            // Applied here rather than waiting for the inputs service to pass the change on, so the
            // answer shows the level now in force (the service's later report of it changes nothing).
            await api.controller.inputsChanged(input1: state.input1, input2: state.input2)
            return try jsonResponse(await api.controller.rippleState())
        }
        v1.put("simulator/building") { request, _ -> Response in
            guard api.simulatedMeter else {
                throw APIError(.conflict, "the meter is not simulated (meter.source); the building load is measured")
            }
            let body = try await request.body.collect(upTo: 4096)
            let object = try jsonObject(body)
            guard let values = (object["currents"] ?? object["building"]) as? [Double], values.count == 3,
                values.allSatisfy({ $0 >= 0 && $0 < 10_000 })
            else {
                throw APIError(.badRequest, "expected {\"currents\": [l1, l2, l3]} in amperes, each 0 or more")
            }
            await api.controller.setSimulatedBuilding(PhaseCurrents(l1: values[0], l2: values[1], l3: values[2]))
            return try jsonResponse(["currents": values])
        }
        v1.post("chargers/:id/calls") { request, context -> Response in
            let id = try context.parameters.require("id")
            let body = try await request.body.collect(upTo: api.proxy.configuration.maxMessageSize)
            let call = try InjectedCallRequest(body: Array(body.readableBytesView))
            let outcome: InjectedCallOutcome
            do {
                outcome = try await api.proxy.call(
                    chargerID: id,
                    action: call.action,
                    payload: call.payload,
                    timeout: call.timeout
                )
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
                let prefix =
                    "{\"error\":{\"code\":\(jsonString(code)),\"description\":\(jsonString(description)),\"details\":"
                return rawJSONResponse(
                    Array(prefix.utf8) + (details.isEmpty ? Array("{}".utf8) : details) + Array("}}".utf8)
                )
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

/// `GET /api/v1/status`.
struct StatusView: Codable {
    var version: String
    var uptimeSeconds: Int
    var chargersConnected: Int
    var meterStale: Bool
    var meterError: String?
    var measurement: String?
    var senseToSendSeconds: Double?
    var ripple: SiteController.RippleState

    enum CodingKeys: String, CodingKey {
        case version, measurement, ripple
        case uptimeSeconds = "uptime_seconds"
        case chargersConnected = "chargers_connected"
        case meterStale = "meter_stale"
        case meterError = "meter_error"
        case senseToSendSeconds = "sense_to_send_seconds"
    }
}

/// `POST /api/v1/limits`: `{"source": "dso", "max_current": 20}` or `{"source": "dso", "max_power": 11000}`
/// or `{"source": "dso", "level": "60%"}`, with optional `"expires_after": 300` (seconds).
struct LimitRequest {
    var source: String
    var level: LimitLevel
    var expiresAfter: Double?

    init(body: [UInt8]) throws {
        let object = try jsonObject(ByteBuffer(bytes: body))
        guard let source = object["source"] as? String, !source.isEmpty, source.count <= 64 else {
            throw APIError(.badRequest, "expected \"source\": a name of 1 to 64 characters for who sends the limit")
        }
        self.source = source
        if let amperes = object["max_current"] as? Double {
            guard amperes >= 0 else { throw APIError(.badRequest, "expected \"max_current\" ≥ 0 amperes") }
            level = .amperes(amperes)
        } else if let watts = object["max_power"] as? Double {
            guard watts >= 0 else { throw APIError(.badRequest, "expected \"max_power\" ≥ 0 watts") }
            level = .watts(watts)
        } else if let text = object["level"] as? String {
            do {
                level = try LimitLevel(parsing: text)
            } catch {
                throw APIError(.badRequest, "expected \"level\" such as \"60%\", \"32A\" or \"11kW\": \(error)")
            }
        } else {
            throw APIError(.badRequest, "expected one of \"max_current\" (A), \"max_power\" (W) or \"level\"")
        }
        if let expiry = object["expires_after"] {
            guard let seconds = expiry as? Double, seconds > 0 else {
                throw APIError(.badRequest, "expected \"expires_after\" in seconds, above 0")
            }
            expiresAfter = seconds
        }
    }
}

func jsonObject(_ body: ByteBuffer) throws -> [String: Any] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
        throw APIError(.badRequest, "expected a JSON object")
    }
    return object
}

/// `{"action": "...", "payload": {...}}` for an injected call.
struct InjectedCallRequest {
    var action: String
    var payload: [UInt8]
    /// Seconds to wait for the charger's answer; `nil`: `ocpp.call_timeout`.
    var timeout: Double?

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
        if let timeout = object["timeout"] {
            guard let seconds = timeout as? Double, seconds > 0, seconds <= 3600 else {
                throw APIError(.badRequest, "expected \"timeout\" in seconds, above 0 and at most 3600")
            }
            self.timeout = seconds
        }
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

/// Every error leaves as a JSON object with a message, also for paths and methods that do not exist.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPResponseError {
            switch error.status {
            case .notFound:
                throw APIError(
                    .notFound,
                    "no such endpoint: \(request.method) \(request.uri.path); see /api/v1/openapi.json for what exists"
                )
            case .methodNotAllowed:
                throw APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)")
            default:
                throw APIError(error.status, "\(error)")
            }
        } catch let error as DecodingError {
            throw APIError(.badRequest, "the request body is not what this endpoint expects: \(error)")
        }
    }
}

/// Bearer-token check: writes always need the token; reads need it unless `publicRead`.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let publicRead: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
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

func jsonResponse(_ value: some Encodable, snakeCase: Bool = false) throws -> Response {
    let encoder = JSONEncoder()
    if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
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
    let data =
        (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
