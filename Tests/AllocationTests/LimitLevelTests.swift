import Allocation
import Testing

@Suite struct LimitLevelTests {
    @Test(arguments: [
        ("100%", LimitLevel.percentOfFuse(100)),
        ("60%", .percentOfFuse(60)),
        (" 60 % ", .percentOfFuse(60)),
        ("32A", .amperes(32)),
        ("32 a", .amperes(32)),
        ("4.2kW", .watts(4200)),
        ("4.2 KW", .watts(4200)),
        ("11000W", .watts(11000)),
        ("0%", .percentOfFuse(0)),
    ])
    func parsesEveryForm(text: String, expected: LimitLevel) throws {
        #expect(try LimitLevel(parsing: text) == expected)
    }

    @Test(arguments: [
        ("", LimitLevelError.empty),
        ("abc", .invalidNumber("abc")),
        ("-5A", .negative("-5A")),
        ("120%", .percentAbove100("120%")),
        ("32", .missingUnit("32")),
        ("32V", .unknownUnit("32V", unit: "v")),
        ("1.2.3A", .invalidNumber("1.2.3A")),
    ])
    func rejectsWhatItCannotRead(text: String, expected: LimitLevelError) {
        #expect(throws: expected) { try LimitLevel(parsing: text) }
    }

    @Test func errorMessagesQuoteTheTextAndShowValidForms() {
        let message = LimitLevelError.unknownUnit("32V", unit: "v").description
        #expect(message.contains("\"32V\""))
        #expect(message.contains("\"4.2kW\""))
    }

    @Test func convertsToAmperesPerPhase() {
        #expect(LimitLevel.percentOfFuse(60).current(fuse: 63, nominalVoltage: 230) == 37.8)
        #expect(LimitLevel.amperes(32).current(fuse: 63, nominalVoltage: 230) == 32)
        let fourPointTwo = LimitLevel.watts(4200).current(fuse: 63, nominalVoltage: 230)
        #expect(abs(fourPointTwo - 6.0869565) < 1e-6)
        #expect(abs(LimitLevel.watts(11000).current(fuse: 63, nominalVoltage: 230) - 15.942) < 1e-3)
        let site = Site(fuse: PhaseCurrents(l1: 100, l2: 80, l3: 100))
        #expect(LimitLevel.percentOfFuse(50).currents(on: site) == PhaseCurrents(l1: 50, l2: 40, l3: 50))
    }

    @Test(arguments: ["60%", "32A", "4.2kW", "11000W", "12.5A", "1500W"])
    func canonicalTextParsesBackToTheSameLevel(text: String) throws {
        let level = try LimitLevel(parsing: text)
        #expect(try LimitLevel(parsing: level.description) == level)
    }

    @Test func rippleControlMappingLooksUpPatterns() throws {
        let mapping = RippleControlMapping(levels: ["00": .percentOfFuse(100), "10": .percentOfFuse(60)])
        #expect(mapping.level(for: RippleControlMapping.pattern([true, false])) == .percentOfFuse(60))
        #expect(mapping.level(for: "11") == nil)
    }
}
