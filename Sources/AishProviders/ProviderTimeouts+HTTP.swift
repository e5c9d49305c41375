import AishConfig
import AishHTTP
import AishBase

extension HTTPTimeouts {
    /// A provider's configured timeouts as the transport's: first token is first byte.
    package init(_ provider: ProviderTimeouts) {
        self.init(connect: provider.connect, firstByte: provider.firstToken, idle: provider.idle)
    }
}
