-- lore's commands; require('lore').setup{} attaches buffers (:help lore).
if vim.g.loaded_lore then
  return
end
vim.g.loaded_lore = true
if vim.fn.has('nvim-0.7') == 0 then
  vim.api.nvim_err_writeln('lore: Neovim 0.7 or newer is needed')
  return
end
require('lore').create_commands()
