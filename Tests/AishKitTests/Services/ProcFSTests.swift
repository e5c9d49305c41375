import Foundation
import Testing
@testable import AishBase
@testable import AishServices

/// /proc parsing against files copied from a real /proc (three python http.servers were
/// listening: 127.0.0.1:38471, [::1]:38472 and [::]:38473; pid 8740 is the first).
@Suite struct ProcFSFixtureTests {
    let proc = ProcFS(root: ServiceFixtures.procRoot)

    @Test func ipv4TableListsListenersAndConnections() throws {
        let entries = ProcFS.parseSocketTable(try ServiceFixtures.text("proc/net/tcp"), family: .ipv4)
        #expect(entries.count == 6)
        #expect(entries[0] == SocketEntry(family: .ipv4, localAddress: "127.0.0.1", localPort: 38471, state: 0x0A, uid: 0,
                                          inode: 16524))
        #expect(entries[1].localAddress == "0.0.0.0")
        #expect(entries[1].localPort == 2024)
        #expect(entries[1].isListening)
        // An established connection from 192.0.2.2 is not a listener.
        #expect(entries[2].localAddress == "192.0.2.2")
        #expect(entries[2].state == 0x01)
        #expect(!entries[2].isListening)
    }

    @Test func ipv6TableDecodesWordsInHostOrder() throws {
        let entries = ProcFS.parseSocketTable(try ServiceFixtures.text("proc/net/tcp6"), family: .ipv6)
        #expect(entries == [
            SocketEntry(family: .ipv6, localAddress: "::1", localPort: 38472, state: 0x0A, uid: 0, inode: 16517),
            SocketEntry(family: .ipv6, localAddress: "::", localPort: 38473, state: 0x0A, uid: 0, inode: 15866),
        ])
    }

    @Test func listenersOnAPortComeFromBothTables() {
        #expect(proc.listeningSockets(port: 38471).map(\.inode) == [16524])
        #expect(proc.listeningSockets(port: 38473).map(\.localAddress) == ["::"])
        #expect(proc.listeningSockets(port: 9).isEmpty)
    }

    @Test func socketInodeLeadsToTheOwningProcess() {
        #expect(proc.socketOwners(of: [16524]) == [16524: 8740])
        // Nobody in the copied tree owns the IPv6 sockets (their processes were not copied).
        #expect(proc.socketOwners(of: [16517]) == [:])
    }

    @Test func statFieldsAreCountedFromTheLastParenthesis() throws {
        let stat = try #require(proc.stat(pid: 8740))
        #expect(stat == ProcessStat(pid: 8740, command: "python3", state: "S", parentPID: 1, userTicks: 9, systemTicks: 1,
                                    startTicks: 48522))
        #expect(stat.cpuTicks == 10)
        let odd = "42 (my) (server) R 7 42 42 0 -1 0 0 0 0 0 120 30 0 0 20 0 3 0 999 1 2"
        let parsed = try #require(ProcFS.parseStat(odd))
        #expect(parsed.command == "my) (server")
        #expect(parsed.state == "R")
        #expect(parsed.parentPID == 7)
        #expect(parsed.cpuTicks == 150)
        #expect(parsed.startTicks == 999)
        #expect(ProcFS.parseStat("42 (truncated") == nil)
        #expect(ProcFS.parseStat("42 (short) S 1 2 3") == nil)
    }

    @Test func statusGivesNameUIDAndResidentMemory() throws {
        let status = try #require(proc.status(pid: 8740))
        #expect(status == ProcessStatusInfo(name: "python3", realUID: 0, residentKiB: 21280))
        // Kernel threads have no VmRSS line.
        #expect(ProcFS.parseStatus("Name:\tkthreadd\nUid:\t0\t0\t0\t0\n").residentKiB == nil)
    }

    @Test func commandLineAndUptime() throws {
        #expect(proc.commandLine(pid: 8740) == "/root/.pyenv/versions/3.11.7/bin/python3 -m http.server 38471 --bind 127.0.0.1")
        #expect(proc.commandLine(pid: 1) == nil)
        #expect(proc.uptime() == 490.54)
        #expect(ProcFS.parseUptime("468.24 832.14\n") == 468.24)
    }

    @Test func addressDecoding() {
        #expect(ProcFS.decodeAddress("0100007F", family: .ipv4) == "127.0.0.1")
        #expect(ProcFS.decodeAddress("000080FE000000000000000001000000", family: .ipv6) == "fe80::1")
        #expect(ProcFS.decodeAddress("0000000000000000FFFF00000100007F", family: .ipv6) == "::ffff:127.0.0.1")
        #expect(ProcFS.decodeAddress("B80D0120000000000000000000000100", family: .ipv6) == "2001:db8::1:0")
        #expect(ProcFS.decodeAddress("0100007", family: .ipv4) == nil)
        #expect(ProcFS.decodeAddress("0100007G", family: .ipv4) == nil)
        #expect(ProcFS.socketInode(fromLink: "socket:[16524]") == 16524)
        #expect(ProcFS.socketInode(fromLink: "pipe:[16458]") == nil)
    }

    @Test func malformedTableLinesAreSkipped() {
        let text = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
               1: garbage
               2: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77 1
            """
        #expect(ProcFS.parseSocketTable(text, family: .ipv4) == [
            SocketEntry(family: .ipv4, localAddress: "127.0.0.1", localPort: 80, state: 0x0A, uid: 1000, inode: 77),
        ])
    }
}

/// The same readers against this machine's /proc and processes the tests start.
@Suite(.serialized) struct ProcFSLiveTests {
    @Test func portLeadsToTheServerTheTestStarted() throws {
        let (server, port) = try ChildProcess.httpServer()
        defer { server.stop() }
        let proc = ProcFS()
        let sockets = proc.listeningSockets(port: port)
        #expect(sockets.map(\.localAddress) == ["127.0.0.1"])
        let owners = proc.socketOwners(of: Set(sockets.map(\.inode)))
        #expect(Array(owners.values) == [server.pid])
        #expect(proc.commandLine(pid: server.pid)?.contains("http.server") == true)
        #expect((proc.status(pid: server.pid)?.residentKiB ?? 0) > 0)
    }

    @Test func cpuIsSampledOverTheIntervalNotSinceStart() throws {
        let busy = try ChildProcess.busyLoop()
        let idle = try ChildProcess("/bin/sleep", ["60"])
        defer { busy.stop(); idle.stop() }
        let cpu = try #require(CPUSampler.sample(pids: [busy.pid, idle.pid, 999_999_999], proc: ProcFS(), interval: 1,
                                                 interrupt: InterruptFlag()))
        // Generous bounds: the machine is shared, so the busy loop may get only part of a core.
        #expect(try #require(cpu[busy.pid]) > 10)
        #expect(try #require(cpu[idle.pid]) < 2)
        #expect(cpu[999_999_999] == nil)
    }

    @Test func cpuPercentArithmetic() {
        #expect(CPUSampler.percent(ticksBefore: 100, ticksAfter: 150, elapsed: 1, ticksPerSecond: 100) == 50)
        #expect(CPUSampler.percent(ticksBefore: 0, ticksAfter: 40, elapsed: 0.2, ticksPerSecond: 100) == 200)
        #expect(CPUSampler.percent(ticksBefore: 10, ticksAfter: 5, elapsed: 1, ticksPerSecond: 100) == 0)
    }

    @Test func samplingStopsOnInterrupt() {
        let flag = InterruptFlag()
        flag.raise()
        #expect(CPUSampler.sample(pids: [getpid()], proc: ProcFS(), interval: 5, interrupt: flag) == nil)
    }
}
