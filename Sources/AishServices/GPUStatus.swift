import FoundationEssentials
import Glibc
import AishBase

package struct GPUDevice: Equatable, Sendable {
    package var index: Int
    package var name: String
    package var memoryUsedMiB: Int?
    package var memoryTotalMiB: Int?
    package var utilizationPercent: Int?   // nil when the driver reports "[Not Supported]"
}

/// GPU memory held by one process.
package struct GPUProcessMemory: Equatable, Sendable {
    package var pid: Int32
    package var usedMiB: Int?
}

/// What `status` knows about GPUs: either devices (possibly with per-process memory) or the
/// reason there are none. Never an error: machines without a GPU are normal.
package enum GPUReport: Equatable, Sendable {
    case present(devices: [GPUDevice], processes: [GPUProcessMemory])
    case absent(reason: String)

    package var processes: [GPUProcessMemory] {
        if case let .present(_, p) = self { return p }
        return []
    }

    /// GPU memory per pid (a process on two GPUs counts both).
    package var memoryByPID: [Int32: Int] {
        var out: [Int32: Int] = [:]
        for p in processes { if let m = p.usedMiB { out[p.pid, default: 0] += m } }
        return out
    }
}

/// Queries `nvidia-smi` in its CSV form (stable across driver versions, unlike the table).
package enum NvidiaSMI {
    package static let deviceArguments = [
        "--query-gpu=index,name,memory.used,memory.total,utilization.gpu", "--format=csv,noheader,nounits",
    ]
    package static let processArguments = ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"]

    package static let absentMessage = "no GPU found (nvidia-smi not available)"

    package static func report(environment: [String: String], interrupt: InterruptFlag) -> GPUReport {
        let smi = ExternalProgram(name: "nvidia-smi", environment: environment)
        guard let devicesOutput = try? smi.run(deviceArguments, timeout: 10, interrupt: interrupt),
            devicesOutput.succeeded
        else { return .absent(reason: absentMessage) }
        let devices = parseDevices(devicesOutput.standardOutput)
        guard !devices.isEmpty else { return .absent(reason: absentMessage) }
        var processes: [GPUProcessMemory] = []
        if let out = try? smi.run(processArguments, timeout: 10, interrupt: interrupt), out.succeeded {
            processes = parseProcesses(out.standardOutput)
        }
        return .present(devices: devices, processes: processes)
    }

    /// Lines of "0, NVIDIA GeForce RTX 3090, 10240, 24576, 37". A name may contain commas, so
    /// the numeric fields are taken from the ends. Lines that are not device rows (such as
    /// "No devices were found") are skipped.
    package static func parseDevices(_ text: String) -> [GPUDevice] {
        var devices: [GPUDevice] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let raw = line.split(separator: ",", omittingEmptySubsequences: false)
            let fields = raw.map { $0.trimming(.whitespaces) }
            guard fields.count >= 5, let index = Int(fields[0]) else { continue }
            let n = fields.count
            let name = raw[1..<(n - 3)].joined(separator: ",").trimming(.whitespaces)
            devices.append(GPUDevice(index: index, name: name,
                                     memoryUsedMiB: number(fields[n - 3]), memoryTotalMiB: number(fields[n - 2]),
                                     utilizationPercent: number(fields[n - 1])))
        }
        return devices
    }

    /// Lines of "12345, 2048".
    package static func parseProcesses(_ text: String) -> [GPUProcessMemory] {
        var out: [GPUProcessMemory] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ",").map { $0.trimming(.whitespaces) }
            guard fields.count >= 2, let pid = Int32(fields[0]) else { continue }
            out.append(GPUProcessMemory(pid: pid, usedMiB: number(fields[1])))
        }
        return out
    }

    /// "[N/A]", "[Not Supported]" and similar → nil.
    private static func number(_ field: String) -> Int? {
        if let i = Int(field) { return i }
        if let d = Double(field) { return Int(d.rounded()) }
        return nil
    }
}
