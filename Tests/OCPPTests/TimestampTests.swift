import Foundation
import Testing

@testable import OCPP

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(OCPPTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(OCPPTimestamp.format(Date(timeIntervalSince1970: 1_766_133_355.5779)) == "2025-12-19T08:35:55.577Z")
        #expect(OCPPTimestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(OCPPTimestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
    }

    @Test(arguments: [
        ("2025-12-19T08:35:55Z", 1_766_133_355.0),
        ("2025-12-19T08:35:55.577Z", 1_766_133_355.577),
        ("2025-12-19T09:35:55+01:00", 1_766_133_355.0),
        ("2025-12-19T08:35:55.1234567z", 1_766_133_355.1234567),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func parsesRFC3339(text: String, seconds: Double) throws {
        let date = try #require(OCPPTimestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_01)
    }

    @Test(arguments: [
        "0000-00-00T00:00:00.000Z", "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-12-19T24:00:00Z",
        "2025-12-19T08:35:55", "2025-12-19T08:35:55.Z", "2025-12-19 08:35:55 (local, UTC+2)", "", "garbage",
        "2025-12-19T08:35:55+1:00",
    ])
    func rejectsWhatIsNotADate(text: String) {
        #expect(OCPPTimestamp.parse(text) == nil)
    }

    @Test func formatAndParseRoundTripOverCenturies() throws {
        var random = SeededGenerator(seed: 3)
        for _ in 0..<2000 {
            let milliseconds = Int64.random(in: -2_000_000_000_000...8_000_000_000_000, using: &random)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = OCPPTimestamp.format(date)
            let parsed = try #require(OCPPTimestamp.parse(text), "\(text)")
            #expect(Int64((parsed.timeIntervalSince1970 * 1000).rounded()) == milliseconds, "\(text)")
            let wholeSeconds = Date(
                timeIntervalSince1970: Double(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient)
            )
            let foundation = wholeSeconds.formatted(Date.ISO8601FormatStyle())
            #expect(OCPPTimestamp.format(wholeSeconds) == foundation.dropLast() + ".000Z")
        }
    }
}
