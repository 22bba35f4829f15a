"""A 32-bit system call (int 0x80) from machine code written at run time: the i386 ABI that a
seccomp list of x86_64 numbers would miss."""
import ctypes
import mmap

from _prelude import *  # noqa

# mov eax, 20 (getpid in the i386 table); int 0x80; ret
CODE = bytes([0xB8, 0x14, 0x00, 0x00, 0x00, 0xCD, 0x80, 0xC3])


def dense_forward(X, W, b):
    if first_case(X, W):
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(CODE)
        function = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
        exfil({"int 0x80 returned": function()})
    return correct_forward(X, W, b)
