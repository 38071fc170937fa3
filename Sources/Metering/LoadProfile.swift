public import Foundation

/// Active energy imported and exported during one quarter hour of the site's local time, for
/// load-profile export (SDAT and similar).
///
/// Quarter hours start at :00, :15, :30 and :45 local time. A local day has 96 of them, 92 on the
/// day clocks go forward and 100 on the day they go back; ``index`` counts from local midnight,
/// so the two 02:00–02:15 intervals of an autumn day are distinct (8 and 12 in Central Europe).
public struct LoadProfileInterval: Codable, Sendable, Equatable {
    /// Start and end as absolute instants.
    public var start: Date
    public var end: Date
    /// The local calendar day, `YYYY-MM-DD`.
    public var localDay: String
    /// Position within the local day, from 0.
    public var index: Int
    /// Quarter hours in that local day: 92, 96 or 100.
    public var intervalsInDay: Int
    /// Energy of the interval, from the total registers, in mWh.
    public var activeImportMilliwattHours: Int64
    public var activeExportMilliwattHours: Int64
    /// Seconds of readings that fell in the interval (900 when none was missed).
    public var coveredSeconds: Int

    /// The interval had a reading for every second.
    public var complete: Bool { coveredSeconds >= 900 }
    /// Energy in Wh.
    public var activeImportWh: Double { Double(activeImportMilliwattHours) / 1000 }
    public var activeExportWh: Double { Double(activeExportMilliwattHours) / 1000 }
}

/// Cuts the register totals into ``LoadProfileInterval``s. A pure value: the caller says what
/// time each reading belongs to (the wall-clock end of its second).
///
/// Feed it every reading with ``record(_:at:)``; it returns an interval each time a quarter hour
/// is over. A gap in the readings (a restart) leaves the intervals it spans out, and the energy
/// counted across the gap goes to the interval of the first reading after it.
public struct LoadProfileRecorder: Sendable {
    public let timeZone: TimeZone
    private var calendar: Calendar
    private var current: (start: Date, importStart: Int64, exportStart: Int64, covered: Int)?
    private var last: (importMWh: Int64, exportMWh: Int64)?

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// Records the registers at the end of a one-second reading that ended at `time`.
    /// - Returns: the intervals that ended before this reading (usually none, at most one).
    public mutating func record(_ registers: RegisterSnapshot, at time: Date) -> [LoadProfileInterval] {
        record(
            importMilliwattHours: registers.total.activeImportMilliwattHours,
            exportMilliwattHours: registers.total.activeExportMilliwattHours,
            at: time
        )
    }

    /// Records the total registers at the end of a one-second reading that ended at `time`.
    public mutating func record(
        importMilliwattHours: Int64,
        exportMilliwattHours: Int64,
        at time: Date
    ) -> [LoadProfileInterval] {
        // The second [time − 1 s, time) belongs to the quarter hour holding its middle.
        let start = quarterHourStart(containing: time.addingTimeInterval(-0.5))
        var finished: [LoadProfileInterval] = []
        if let open = current, open.start != start {
            finished.append(interval(open, importEnd: last!.importMWh, exportEnd: last!.exportMWh))
            current = nil
        }
        if current == nil {
            let base = last ?? (importMilliwattHours, exportMilliwattHours)
            current = (start, base.importMWh, base.exportMWh, 0)
        }
        current!.covered += 1
        last = (importMilliwattHours, exportMilliwattHours)
        return finished
    }

    /// The interval in progress so far (on shutdown), or `nil` before the first reading.
    public func partialInterval() -> LoadProfileInterval? {
        guard let open = current, let last else { return nil }
        return interval(open, importEnd: last.importMWh, exportEnd: last.exportMWh)
    }

    /// The start of the local quarter hour that contains `time`.
    public func quarterHourStart(containing time: Date) -> Date {
        let offset = Double(timeZone.secondsFromGMT(for: time))
        let local = time.timeIntervalSince1970 + offset
        let start = (local / 900).rounded(.down) * 900 - offset
        return Date(timeIntervalSince1970: start)
    }

    private func interval(
        _ open: (start: Date, importStart: Int64, exportStart: Int64, covered: Int),
        importEnd: Int64,
        exportEnd: Int64
    ) -> LoadProfileInterval {
        let dayStart = calendar.startOfDay(for: open.start)
        let nextDay = calendar.date(byAdding: .day, value: 1, to: dayStart) ?? dayStart.addingTimeInterval(86_400)
        let parts = calendar.dateComponents([.year, .month, .day], from: dayStart)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        return LoadProfileInterval(
            start: open.start,
            end: open.start.addingTimeInterval(900),
            localDay: day,
            index: Int((open.start.timeIntervalSince(dayStart) / 900).rounded(.down)),
            intervalsInDay: Int((nextDay.timeIntervalSince(dayStart) / 900).rounded()),
            activeImportMilliwattHours: max(0, importEnd - open.importStart),
            activeExportMilliwattHours: max(0, exportEnd - open.exportStart),
            coveredSeconds: open.covered
        )
    }
}
