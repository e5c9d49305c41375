import Foundation
import Testing
@testable import AishBase
@testable import AishServices

@Suite struct GPUStatusTests {
    @Test func oneGPU() throws {
        let devices = NvidiaSMI.parseDevices(try ServiceFixtures.text("nvidia-smi/query-gpu-one.csv"))
        #expect(devices == [GPUDevice(index: 0, name: "NVIDIA GeForce RTX 3090", memoryUsedMiB: 10240, memoryTotalMiB: 24576,
                                      utilizationPercent: 37)])
    }

    @Test func twoGPUsWithAnUnsupportedField() throws {
        let devices = NvidiaSMI.parseDevices(try ServiceFixtures.text("nvidia-smi/query-gpu-two.csv"))
        #expect(devices.map(\.index) == [0, 1])
        #expect(devices[1] == GPUDevice(index: 1, name: "NVIDIA A100-SXM4-80GB", memoryUsedMiB: 3, memoryTotalMiB: 81920,
                                        utilizationPercent: nil))
    }

    @Test func noGPU() throws {
        #expect(NvidiaSMI.parseDevices(try ServiceFixtures.text("nvidia-smi/query-gpu-none.txt")).isEmpty)
        #expect(NvidiaSMI.parseDevices(try ServiceFixtures.text("nvidia-smi/driver-not-loaded.txt")).isEmpty)
    }

    @Test func namesWithCommasKeepTheirCommas() {
        let devices = NvidiaSMI.parseDevices("2, Tesla T4, rev 2, 100, 15360, 0\n")
        #expect(devices == [GPUDevice(index: 2, name: "Tesla T4, rev 2", memoryUsedMiB: 100, memoryTotalMiB: 15360,
                                      utilizationPercent: 0)])
    }

    @Test func computeApps() throws {
        let processes = NvidiaSMI.parseProcesses(try ServiceFixtures.text("nvidia-smi/query-compute-apps.csv"))
        #expect(processes == [GPUProcessMemory(pid: 2811, usedMiB: 9876), GPUProcessMemory(pid: 3302, usedMiB: nil)])
        #expect(GPUReport.present(devices: [], processes: processes).memoryByPID == [2811: 9876])
    }

    /// nvidia-smi is run as a program from PATH; a stand-in prints the fixture files.
    @Test func reportRunsNvidiaSMIWithTheDocumentedArguments() throws {
        let dir = try TemporaryDirectory()
        let fixtures = ServiceFixtures.directory.appendingPathComponent("nvidia-smi").path
        try dir.executable("nvidia-smi", """
            #!/bin/sh
            printf '%s\\n' "$*" >> "\(dir.path)/calls"
            case "$1" in
              --query-gpu=*) /bin/cat "\(fixtures)/query-gpu-two.csv" ;;
              --query-compute-apps=*) /bin/cat "\(fixtures)/query-compute-apps.csv" ;;
            esac
            """)
        let report = NvidiaSMI.report(environment: ["PATH": dir.path], interrupt: InterruptFlag())
        guard case let .present(devices, processes) = report else {
            Issue.record("expected GPUs, got \(report)")
            return
        }
        #expect(devices.count == 2)
        #expect(processes.count == 2)
        #expect(dir.read("calls") == """
            --query-gpu=index,name,memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits
            --query-compute-apps=pid,used_memory --format=csv,noheader,nounits

            """)
    }

    @Test func missingOrFailingNvidiaSMIMeansNoGPU() throws {
        let empty = try TemporaryDirectory()
        #expect(NvidiaSMI.report(environment: ["PATH": empty.path], interrupt: InterruptFlag())
                == .absent(reason: "no GPU found (nvidia-smi not available)"))
        let failing = try TemporaryDirectory()
        let fixtures = ServiceFixtures.directory.appendingPathComponent("nvidia-smi").path
        try failing.executable("nvidia-smi", "#!/bin/sh\n/bin/cat \"\(fixtures)/driver-not-loaded.txt\"\nexit 9\n")
        #expect(NvidiaSMI.report(environment: ["PATH": failing.path], interrupt: InterruptFlag())
                == .absent(reason: "no GPU found (nvidia-smi not available)"))
        let noDevices = try TemporaryDirectory()
        try noDevices.executable("nvidia-smi", "#!/bin/sh\n/bin/cat \"\(fixtures)/query-gpu-none.txt\"\nexit 6\n")
        #expect(NvidiaSMI.report(environment: ["PATH": noDevices.path], interrupt: InterruptFlag())
                == .absent(reason: "no GPU found (nvidia-smi not available)"))
    }
}
