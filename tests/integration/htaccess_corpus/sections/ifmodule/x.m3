source: ifmodule/x.m3
