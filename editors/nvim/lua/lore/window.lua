-- The floating Markdown window that shows an answer as it streams in.
local config = require('lore.config')

local api = vim.api
local M = {}

local current = {} -- kind ('answer', 'status') -> the Window shown now

local Window = {}
Window.__index = Window

local function size(v, total)
  if v <= 1 then
    return math.floor(total * v)
  end
  return math.floor(v)
end

-- The window's width and its greatest height for the editor's size now.
local function dimensions()
  local f = config.options.float or {}
  local cols = vim.o.columns
  local rows = vim.o.lines - vim.o.cmdheight - 1
  local width = size(f.width or 0.8, cols)
  if f.max_width then
    width = math.min(width, f.max_width)
  end
  width = math.max(math.min(width, cols - 4), math.min(20, cols))
  local max_height = math.max(math.min(size(f.height or 0.6, rows), rows - 2), 1)
  return width, max_height
end

-- Lines the buffer takes on screen with 'wrap' at width, up to limit.
local function display_lines(buf, width, limit)
  local n = 0
  for _, line in ipairs(api.nvim_buf_get_lines(buf, 0, -1, false)) do
    n = n + math.max(1, math.ceil(vim.fn.strdisplaywidth(line) / width))
    if n >= limit then
      return limit
    end
  end
  return math.max(n, 1)
end

-- M.open shows a new window with a placeholder line, closing the previous
-- one of its kind ('answer', the default, or 'status'). title is shown where
-- the Neovim version has border titles. on_close(window) runs once when the
-- window goes away.
function M.open(title, placeholder, on_close, kind)
  kind = kind or 'answer'
  if current[kind] then
    current[kind]:close()
  end
  local f = config.options.float or {}
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  api.nvim_buf_set_lines(buf, 0, -1, false, { placeholder or '' })
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = 'markdown'

  local width, max_height = dimensions()
  local win_config = {
    relative = 'editor',
    width = width,
    height = 1,
    row = math.max(math.floor((vim.o.lines - max_height) / 2) - 1, 0),
    col = math.max(math.floor((vim.o.columns - width) / 2), 0),
    style = 'minimal',
    border = f.border or 'rounded',
  }
  if title and vim.fn.has('nvim-0.9') == 1 and win_config.border ~= 'none' then
    win_config.title = ' ' .. title .. ' '
  end
  local enter = f.enter ~= false
  local win = api.nvim_open_win(buf, enter, win_config)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].winblend = f.winblend or 0

  local self = setmetatable({
    buf = buf,
    win = win,
    width = width,
    max_height = max_height,
    placeholder = true,
    text = '',
    on_close = on_close,
    kind = kind,
  }, Window)
  for _, lhs in ipairs({ 'q', '<Esc>' }) do
    vim.keymap.set('n', lhs, function()
      self:close()
    end, { buffer = buf, nowait = true, silent = true, desc = 'Close the lore window' })
  end
  api.nvim_create_autocmd('WinClosed', {
    pattern = tostring(win),
    once = true,
    callback = function()
      self:_closed()
    end,
  })
  current[kind] = self
  self:_resize()
  return self
end

function Window:valid()
  return self.win ~= nil and api.nvim_win_is_valid(self.win) and api.nvim_buf_is_valid(self.buf)
end

function Window:_resize()
  if not self:valid() then
    return
  end
  local h = display_lines(self.buf, self.width, self.max_height)
  if api.nvim_win_get_height(self.win) ~= h then
    api.nvim_win_set_height(self.win, h)
  end
end

-- Sets lines [first, last) of the buffer, keeping the view on the end when
-- the cursor was on the last line (the window follows the stream).
function Window:_set(first, last, lines)
  if not self:valid() then
    return
  end
  local count = api.nvim_buf_line_count(self.buf)
  local follow = api.nvim_win_get_cursor(self.win)[1] >= count
  vim.bo[self.buf].modifiable = true
  api.nvim_buf_set_lines(self.buf, first, last, false, lines)
  vim.bo[self.buf].modifiable = false
  self:_resize()
  if follow then
    api.nvim_win_set_cursor(self.win, { api.nvim_buf_line_count(self.buf), 0 })
  end
end

-- Replaces the placeholder line (before the first text arrives).
function Window:status(line)
  if self.placeholder then
    self:_set(0, -1, { line })
  end
end

-- Appends a chunk of streamed text.
function Window:append(chunk)
  if chunk == nil or chunk == '' then
    return
  end
  local first
  if self.placeholder then
    self.placeholder = false
    self.text = ''
    first = ''
    self:_set(0, -1, { '' })
  end
  self.text = self.text .. chunk
  if not self:valid() then
    return
  end
  local last = api.nvim_buf_line_count(self.buf)
  first = first or api.nvim_buf_get_lines(self.buf, last - 1, last, false)[1] or ''
  local parts = vim.split(chunk, '\n', { plain = true })
  parts[1] = first .. parts[1]
  self:_set(last - 1, last, parts)
end

-- Replaces the whole text.
function Window:set_text(text)
  self.placeholder = false
  self.text = text
  self:_set(0, -1, vim.split(text, '\n', { plain = true }))
end

-- The buffer's text now.
function Window:buffer_text()
  if not api.nvim_buf_is_valid(self.buf) then
    return nil
  end
  return table.concat(api.nvim_buf_get_lines(self.buf, 0, -1, false), '\n')
end

function Window:close()
  if self.win and api.nvim_win_is_valid(self.win) then
    api.nvim_win_close(self.win, true)
  end
  self:_closed()
end

function Window:_closed()
  if self.closed then
    return
  end
  self.closed = true
  if current[self.kind] == self then
    current[self.kind] = nil
  end
  if self.on_close then
    pcall(self.on_close, self)
  end
end

-- The window of kind ('answer' by default) shown now, if any.
function M.current(kind)
  return current[kind or 'answer']
end

return M
