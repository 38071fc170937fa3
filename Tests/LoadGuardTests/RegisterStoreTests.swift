import Foundation
import Metering
import Testing

@testable import LoadGuard

@Suite("Energy register store")
struct RegisterStoreTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "loadguard-registers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func savedRegistersComeBackExactly() throws {
        let store = RegisterStore(directory: try temporaryDirectory())
        #expect(try store.load() == nil)
        var snapshot = RegisterSnapshot()
        snapshot.total.activeImportMilliwattHours = 123_456_789
        snapshot.total.activeExportMilliwattHours = 42
        snapshot.phases[1].activeImportMilliwattHours = 7
        try store.save(snapshot)
        #expect(try store.load() == snapshot)
    }

    @Test func aRestartNeverLowersTheRegisters() throws {
        let store = RegisterStore(directory: try temporaryDirectory())
        var stored = RegisterSnapshot()
        stored.total.activeImportMilliwattHours = 5_000_000
        try store.save(stored)
        // An engine restored from the file, which had counted further before (e.g. a later
        // snapshot than the file), keeps the higher value of each register.
        var engine = try MeteringEngine()
        var later = RegisterSnapshot()
        later.total.activeImportMilliwattHours = 6_000_000
        engine.restore(later)
        engine.restore(try #require(try store.load()))
        #expect(engine.registers.total.activeImportMilliwattHours == 6_000_000)
    }

    @Test func anUnreadableFileIsAnErrorNotAReset() throws {
        let directory = try temporaryDirectory()
        try Data("not json".utf8).write(to: URL(fileURLWithPath: directory + "/registers.json"))
        #expect(throws: (any Error).self) { try RegisterStore(directory: directory).load() }
    }
}
