source: ifmodule/x.m2
