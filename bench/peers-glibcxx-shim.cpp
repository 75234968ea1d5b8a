// TorchSharp 0.107.0's libLibTorchSharp.so is built with GCC 13 and asks for one symbol of
// GLIBCXX_3.4.32, std::ios_base_library_init(), which Debian 12's libstdc++ (GCC 12, up to 3.4.30)
// lacks. GCC 13 calls it to make sure the standard streams are initialised; GCC 12 does that with an
// ios_base::Init object, which is what this stand-in constructs. See bench/peers-fixup.sh.
#include <ios>

namespace std
{
    void ios_base_library_init()
    {
        static ios_base::Init init;
    }
}
