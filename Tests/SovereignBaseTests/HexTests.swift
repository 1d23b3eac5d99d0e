import SovereignBase
import Testing

struct HexTests {
    @Test func encodesLowercase() {
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test func roundTripsEveryByte() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
        #expect(Hex.decode(Hex.encode(bytes).uppercased()) == bytes)
    }

    @Test(arguments: ["abc", "0g", "zz", " 0", "0x00"])
    func rejectsWhatIsNotHex(text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func readsUTF16Units() {
        let bytes = Array("xD83dDE00".utf8)
        #expect(Hex.utf16Unit(bytes, at: 1) == 0xD83D)
        #expect(Hex.utf16Unit(bytes, at: 5) == 0xDE00)
        #expect(Hex.utf16Unit(bytes, at: 0) == nil)
        #expect(Hex.utf16Unit(bytes, at: 6) == nil)
        #expect(Hex.utf16Unit(bytes, at: -1) == nil)
    }
}
