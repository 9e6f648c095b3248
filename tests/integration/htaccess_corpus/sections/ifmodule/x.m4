source: ifmodule/x.m4
