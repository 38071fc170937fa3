import Foundation
import Metering
import Testing

@Suite struct LoadProfileTests {
    /// Feeds one reading per second from local midnight to the next, importing 1 mWh per second.
    func day(_ date: String, zone: String) throws -> [LoadProfileInterval] {
        let tz = try #require(TimeZone(identifier: zone))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = tz
        let parts = date.split(separator: "-").map { Int($0)! }
        let midnight = try #require(calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])))
        let next = try #require(calendar.date(byAdding: .day, value: 1, to: midnight))
        var recorder = LoadProfileRecorder(timeZone: tz)
        var intervals: [LoadProfileInterval] = []
        var energy: Int64 = 1_000_000
        var t = midnight.addingTimeInterval(1)
        // Start with the baseline one second before midnight, then a reading per second.
        _ = recorder.record(importMilliwattHours: energy, exportMilliwattHours: 0, at: midnight)
        while t <= next.addingTimeInterval(1) {
            energy += 1
            intervals += recorder.record(importMilliwattHours: energy, exportMilliwattHours: 0, at: t)
            t = t.addingTimeInterval(1)
        }
        return intervals.filter { $0.localDay == date }
    }

    @Test(arguments: [
        ("2025-03-30", 92), ("2025-10-26", 100), ("2025-06-15", 96),
    ])
    func quarterHoursOfALocalDay(date: String, count: Int) throws {
        let intervals = try day(date, zone: "Europe/Zurich")
        #expect(intervals.count == count)
        #expect(intervals.map(\.index) == Array(0..<count))
        for i in intervals {
            #expect(i.intervalsInDay == count)
            #expect(i.activeImportMilliwattHours == 900 && i.coveredSeconds == 900 && i.complete)
            #expect(i.end.timeIntervalSince(i.start) == 900)
        }
        for (a, b) in zip(intervals, intervals.dropFirst()) { #expect(a.end == b.start) }
    }

    @Test func theRepeatedHourInAutumnIsTwoSetsOfIntervals() throws {
        let intervals = try day("2025-10-26", zone: "Europe/Zurich")
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Europe/Zurich")
        formatter.dateFormat = "HH:mm"
        let labels = intervals.map { formatter.string(from: $0.start) }
        #expect(labels[8] == "02:00" && labels[12] == "02:00")
        #expect(intervals[8].start.addingTimeInterval(3600) == intervals[12].start)
    }

    @Test func quarterHoursFollowTheLocalOffsetEvenWhenItIsNotWholeHours() throws {
        let tz = try #require(TimeZone(identifier: "Asia/Kathmandu"))  // UTC+5:45
        let recorder = LoadProfileRecorder(timeZone: tz)
        let t = Date(timeIntervalSince1970: 1_750_000_000)
        let start = recorder.quarterHourStart(containing: t)
        let local = start.timeIntervalSince1970 + Double(tz.secondsFromGMT(for: start))
        #expect(local.truncatingRemainder(dividingBy: 900) == 0)
        #expect(t.timeIntervalSince(start) >= 0 && t.timeIntervalSince(start) < 900)
    }

    @Test func aGapLeavesIntervalsOutAndCountsCoverage() throws {
        let tz = try #require(TimeZone(identifier: "UTC"))
        var recorder = LoadProfileRecorder(timeZone: tz)
        let t0 = Date(timeIntervalSince1970: 1_750_000_600)  // 100 s into a quarter hour
        var out: [LoadProfileInterval] = []
        out += recorder.record(importMilliwattHours: 0, exportMilliwattHours: 0, at: t0)
        out += recorder.record(importMilliwattHours: 10, exportMilliwattHours: 5, at: t0.addingTimeInterval(1))
        // Next reading 40 minutes later.
        out += recorder.record(importMilliwattHours: 500, exportMilliwattHours: 5, at: t0.addingTimeInterval(2400))
        #expect(out.count == 1)
        #expect(out[0].activeImportMilliwattHours == 10 && out[0].activeExportMilliwattHours == 5)
        #expect(out[0].coveredSeconds == 2 && !out[0].complete)
        let partial = try #require(recorder.partialInterval())
        #expect(partial.activeImportMilliwattHours == 490 && partial.coveredSeconds == 1)
    }
}
