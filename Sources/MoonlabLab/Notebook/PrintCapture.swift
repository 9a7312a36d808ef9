import Foundation
import MoonlabLua

/// Routes Lua's `print` and `io.write` (while the default output is stdout) through the
/// session's `output`, so a notebook cell or a kernel request gets the text it printed.
enum PrintCapture {
  static func install(_ session: LabSession) throws {
    let host = session.host
    try host.load(
      Data(
        """
        local emit = ...
        local select, tostring, type, concat = select, tostring, type, table.concat
        local mathtype, format = math.type, string.format
        print = function(...)
          local parts = {}
          for i = 1, select('#', ...) do parts[i] = tostring((select(i, ...))) end
          emit(concat(parts, '\\t') .. '\\n')
        end
        -- The sandbox's io is an empty table that refuses every field.
        local write, output, stdout = rawget(io, 'write'), rawget(io, 'output'), rawget(io, 'stdout')
        if write and output and stdout then
          io.write = function(...)
            if output() ~= stdout then return write(...) end
            local parts = {}
            for i = 1, select('#', ...) do
              local v = select(i, ...)
              if mathtype(v) == 'float' then
                v = format('%.14g', v)  -- what io.write prints for floats
              elseif type(v) == 'number' then
                v = tostring(v)
              elseif type(v) ~= 'string' then
                error(format("bad argument #%d to 'write' (string expected, got %s)", i, type(v)), 2)
              end
              parts[i] = v
            end
            emit(concat(parts))
            return stdout
          end
        end
        """.utf8), chunkname: "=print capture")
    Lua(host.state).push(function: "print") { [unowned session] lua in
      session.output.write(try lua.string(1, "print"))
      return 0
    }
    try host.call(arguments: 1, results: 0)
  }
}
