import Allocation
import Testing

@Suite struct PhaseTests {
    @Test func rotationMapsChargerTerminalsToGridPhases() {
        #expect(PhaseRotation.l2l3l1.gridPhase(ofTerminal: 0) == .l2)
        #expect(PhaseRotation.l3l1l2.gridPhases(terminalCount: 1) == PhaseSet([.l3]))
        #expect(PhaseRotation.l2l3l1.gridPhases(terminalCount: 2) == PhaseSet([.l2, .l3]))
        #expect(PhaseRotation.unknown.gridPhases(terminalCount: 1) == .all)
        let grid = PhaseRotation.l3l1l2.toGrid(PhaseCurrents(l1: 10, l2: 5, l3: 1), terminalCount: 3)
        #expect(grid == PhaseCurrents(l1: 5, l2: 1, l3: 10))
        #expect(
            PhaseRotation.unknown.toGrid(PhaseCurrents(l1: 10, l2: 0, l3: 0), terminalCount: 1)
                == PhaseCurrents(all: 10)
        )
    }

    @Test func rotationsParseInTheWaysInstallersWriteThem() {
        #expect(PhaseRotation(parsing: "L2L3L1") == .l2l3l1)
        #expect(PhaseRotation(parsing: "l3-l1-l2") == .l3l1l2)
        #expect(PhaseRotation(parsing: "132") == .l1l3l2)
        #expect(PhaseRotation(parsing: "unknown") == .unknown)
        #expect(PhaseRotation(parsing: "L1L1L2") == nil)
    }

    @Test func phaseSetsCodeAsListsOfPhases() throws {
        #expect(PhaseSet([.l1, .l3]).description == "[L1, L3]")
        #expect(PhaseSet([.l2]).currents(7) == PhaseCurrents(l1: 0, l2: 7, l3: 0))
    }

    @Test func gridPhasesAndGridCurrentsFollowEachTerminalsPhase() {
        let terminals = PhaseCurrents(l1: 5, l2: 7, l3: 11)
        for rotation in PhaseRotation.allCases where rotation != .unknown {
            for count in 1...3 {
                var phases = PhaseSet.none
                var grid = PhaseCurrents.zero
                for terminal in 0..<count {
                    let phase = rotation.gridPhase(ofTerminal: terminal)!
                    phases = PhaseSet(phases.phases + [phase])
                    grid[phase] += terminals[terminal]
                }
                #expect(rotation.gridPhases(terminalCount: count) == phases, "\(rotation), \(count) terminals")
                #expect(rotation.toGrid(terminals, terminalCount: count) == grid, "\(rotation), \(count) terminals")
            }
        }
    }
}
