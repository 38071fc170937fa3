public import OCPP

/// One simulated charger: what it tells the CSMS at boot, how it is wired and how often it reports.
///
/// The defaults describe a 3-phase 32 A wallbox with one connector that reports every 10 s. See
/// `docs/charger-simulator.md` for the states and numbers.
public struct SimulatedChargerConfiguration: Sendable, Hashable {
    /// The charger's identity: the last segment of its OCPP URL.
    public var id: String
    /// The OCPP version it offers (the only subprotocol in its upgrade request).
    public var version: OCPPVersion
    /// 1 or 3: the phases the charger is wired to. It reports its currents on L1 (and L2, L3) of its own
    /// terminals; the site's phase rotation is LoadGuard's business.
    public var phases: Int
    /// Amperes per phase the charger can deliver; the limit when no charging profile applies.
    public var maxCurrent: Double
    /// How often MeterValues (1.6) or TransactionEvent `Updated` (2.x) are sent during a session: 1 s … 1 h.
    public var meterInterval: Duration
    /// Nominal phase voltage used for power and for converting W profiles to A.
    public var nominalVoltage: Double
    /// Basic-auth password (`<id>:<password>`), or `nil` for none.
    public var password: String?
    public var vendor: String
    public var model: String
    /// How long the charger waits for the answer to its own call before it gives up on it.
    public var callTimeout: Duration
    /// The energy register at start, Wh.
    public var initialEnergyRegister: Double
    /// The cars that come, one after the other, to connector 1 (EVSE 1).
    public var cars: [SimulatedCarConfiguration]
    /// When the last car of ``cars`` has left, start again with the first one.
    public var repeatsCars: Bool

    public init(
        id: String,
        version: OCPPVersion = .v16,
        phases: Int = 3,
        maxCurrent: Double = 32,
        meterInterval: Duration = .seconds(10),
        nominalVoltage: Double = 230,
        password: String? = nil,
        vendor: String = "LoadGuard",
        model: String = "SimulatedCharger",
        callTimeout: Duration = .seconds(30),
        initialEnergyRegister: Double = 0,
        cars: [SimulatedCarConfiguration] = [],
        repeatsCars: Bool = false
    ) {
        self.id = id
        self.version = version
        self.phases = phases
        self.maxCurrent = maxCurrent
        self.meterInterval = meterInterval
        self.nominalVoltage = nominalVoltage
        self.password = password
        self.vendor = vendor
        self.model = model
        self.callTimeout = callTimeout
        self.initialEnergyRegister = initialEnergyRegister
        self.cars = cars
        self.repeatsCars = repeatsCars
    }

    /// The problems of this configuration, each naming the field, what is allowed and what was found; empty when
    /// it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if id.isEmpty || id.count > 48 || id.contains(":") {
            problems.append("charger id '\(id)': expected 1 to 48 characters without ':'")
        }
        if phases != 1 && phases != 3 {
            problems.append("charger \(id): phases must be 1 or 3, found \(phases)")
        }
        if !(maxCurrent >= 6 && maxCurrent <= 80) {
            problems.append("charger \(id): max current must be 6 … 80 A, found \(maxCurrent)")
        }
        if meterInterval < .seconds(1) || meterInterval > .seconds(3600) {
            problems.append("charger \(id): meter interval must be 1 s … 1 h, found \(meterInterval)")
        }
        if !(nominalVoltage > 0) {
            problems.append("charger \(id): nominal voltage must be positive, found \(nominalVoltage)")
        }
        for (index, car) in cars.enumerated() {
            problems += car.problems.map { "charger \(id), car \(index + 1): \($0)" }
        }
        return problems
    }
}

/// A car that comes to the charger, charges what it needs (or until it must leave) and goes.
public struct SimulatedCarConfiguration: Sendable, Hashable {
    /// How long after the connector became free (for the first car: after the simulation started) the car
    /// plugs in; `.zero` for at once.
    public var arrivalDelay: Duration
    /// The energy it needs, Wh.
    public var energyNeeded: Double
    /// The most it draws per phase, A.
    public var maxCurrent: Double
    /// 1 or 3: its on-board charger's phases.
    public var phases: Int
    /// It leaves this long after plugging in even when not full; `nil`: it stays until full.
    public var maximumStay: Duration?
    /// How long it takes to follow a new limit (the IEC 61851 control pilot change to current change).
    public var reactionDelay: Duration
    /// The id tag (1.6) or id token (2.x) its driver presents.
    public var idTag: String

    public init(
        arrivalDelay: Duration = .zero,
        energyNeeded: Double = 20_000,
        maxCurrent: Double = 16,
        phases: Int = 3,
        maximumStay: Duration? = nil,
        reactionDelay: Duration = .seconds(2),
        idTag: String = "SIMCAR"
    ) {
        self.arrivalDelay = arrivalDelay
        self.energyNeeded = energyNeeded
        self.maxCurrent = maxCurrent
        self.phases = phases
        self.maximumStay = maximumStay
        self.reactionDelay = reactionDelay
        self.idTag = idTag
    }

    var problems: [String] {
        var problems: [String] = []
        if arrivalDelay < .zero { problems.append("arrival delay must not be negative, found \(arrivalDelay)") }
        if !(energyNeeded > 0) { problems.append("energy needed must be positive (Wh), found \(energyNeeded)") }
        if !(maxCurrent > 0) { problems.append("max current must be positive (A), found \(maxCurrent)") }
        if phases != 1 && phases != 3 { problems.append("phases must be 1 or 3, found \(phases)") }
        if let maximumStay, maximumStay <= .zero {
            problems.append("maximum stay must be positive, found \(maximumStay)")
        }
        if reactionDelay < .zero { problems.append("reaction delay must not be negative, found \(reactionDelay)") }
        if idTag.isEmpty || idTag.count > 20 { problems.append("id tag must be 1 … 20 characters, found '\(idTag)'") }
        return problems
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var inSeconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
