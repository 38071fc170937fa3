import Allocation
import Metering
import OCPPProxy
public import Prometheus

/// LoadGuard's Prometheus metrics, refreshed from the live state at each scrape of `/metrics`.
public final class LoadGuardMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    public init() {}

    func refresh(_ api: LoadGuardAPI.Context) async {
        let connected = await api.proxy.connectedChargers()
        registry.makeGauge(name: "loadguard_chargers_connected", help: "Chargers connected over OCPP").set(
            Double(connected.count)
        )
        if let reading = await api.meter.latest {
            for (index, phase) in reading.phases.prefix(3).enumerated() {
                let labels = [("phase", "L\(index + 1)")]
                registry.makeGauge(
                    name: "loadguard_grid_current_amperes",
                    labels: labels,
                    help: "Grid current per phase"
                )
                .set(phase.current)
                registry.makeGauge(name: "loadguard_grid_voltage_volts", labels: labels, help: "Grid voltage per phase")
                    .set(phase.voltage)
                registry.makeGauge(
                    name: "loadguard_grid_power_watts",
                    labels: labels,
                    help: "Grid active power per phase"
                )
                .set(phase.activePower)
            }
            if let frequency = reading.frequency {
                registry.makeGauge(name: "loadguard_grid_frequency_hertz", help: "Grid frequency").set(frequency)
            }
        }
        let registers = await api.meter.registers.values.total
        registry.makeGauge(name: "loadguard_energy_import_watthours", help: "Active energy imported").set(
            registers.activeImportWh
        )
        registry.makeGauge(name: "loadguard_energy_export_watthours", help: "Active energy exported").set(
            registers.activeExportWh
        )
        registry.makeGauge(name: "loadguard_meter_stale", help: "1 while the meter delivers no readings")
            .set(await api.meter.stale ? 1.0 : 0.0)
        if let seconds = await api.controller.senseToSend {
            registry.makeGauge(name: "loadguard_sense_to_send_seconds", help: "Meter reading to charging profile sent")
                .set(seconds)
        }
        if let allocation = await api.controller.lastAllocation {
            for (index, limit) in allocation.effectiveLimit.enumerated() {
                registry.makeGauge(
                    name: "loadguard_effective_limit_amperes",
                    labels: [("phase", "L\(index + 1)")],
                    help: "Lowest of fuse, ripple control, API commands and cap"
                ).set(limit.current)
            }
            for charger in allocation.chargers {
                let labels = [("charger", charger.id)]
                registry.makeGauge(
                    name: "loadguard_charger_allocated_amperes",
                    labels: labels,
                    help: "Allocated current"
                )
                .set(charger.current)
                registry.makeGauge(name: "loadguard_charger_draw_amperes", labels: labels, help: "Measured draw")
                    .set(charger.draw)
            }
        }
        for (id, count) in await api.controller.limitsSent {
            registry.makeGauge(name: "loadguard_limits_sent", labels: [("charger", id)], help: "Charging profiles sent")
                .set(Double(count))
        }
    }
}

/// The version LoadGuard reports.
public enum LoadGuardVersion {
    public static let current = "0.1.0"
}
