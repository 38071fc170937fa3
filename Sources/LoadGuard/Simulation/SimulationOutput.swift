import Allocation
import Foundation

extension SimulationResult {
    /// The summary as JSON (keys sorted, so runs can be compared with diff).
    public func summaryJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(summary)
        return String(decoding: data, as: UTF8.self)
    }

    /// The per-second series as CSV, one row per simulated second: effective limit, grid current
    /// and building load (true and estimated) per phase, then per charger its allocation, the
    /// last limit sent and its draw.
    public func csv() -> String {
        var header = ["time", "measurement"]
        for name in ["limit", "grid", "building", "building_estimate"] {
            header += ["\(name)_l1", "\(name)_l2", "\(name)_l3"]
        }
        for id in chargerIDs {
            let column = id.replacingOccurrences(of: ",", with: "_")
            header += ["\(column)_allocation", "\(column)_limit", "\(column)_draw"]
        }
        var lines = [header.joined(separator: ",")]
        lines.reserveCapacity(samples.count + 1)
        func format(_ value: Double) -> String {
            let rounded = (value * 100).rounded() / 100
            return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        }
        for sample in samples {
            var fields = [format(sample.time), sample.measurement.rawValue]
            for currents in [sample.limit, sample.grid, sample.building, sample.buildingEstimate] {
                fields += [format(currents.l1), format(currents.l2), format(currents.l3)]
            }
            for index in chargerIDs.indices {
                fields += [format(sample.allocation[index]), format(sample.sent[index]), format(sample.draw[index])]
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A few lines for a person: safety, usefulness, fairness, calm.
    public func textSummary() -> String {
        func number(_ value: Double?, _ digits: Int = 3) -> String {
            guard let value else { return "n/a" }
            return String(format: "%.\(digits)f", value)
        }
        let summary = self.summary
        return """
            scenario \(summary.scenario): \(Int(summary.durationSeconds)) s simulated
              overload: \(number(summary.overloadAmpSeconds, 1)) A·s above the fuse, \
            longest \(Int(summary.maxOverloadSeconds)) s; max phase current \(number(summary.maxPhaseCurrent, 1)) A
              energy: \(number(summary.energyDeliveredWh / 1000, 2)) of \(number(summary.energyRequestedWh / 1000, 2)) kWh \
            requested; headroom used \(number(summary.headroomUsed)) (when scarce \(number(summary.headroomUsedScarce)))
              fairness (Jain): \(number(summary.jainFairness))
              limit messages: \(summary.limitMessages.total), at most \(summary.limitMessages.maxPerChargerPerHour) \
            per charger per hour (\(summary.limitMessages.maxPerChargerPerHourSteady) in steady state)
              pauses: \(summary.pauses.count), shortest \(number(summary.pauses.shortestSeconds, 0)) s

            """
    }
}
