import { describe, expect, it } from 'vitest'
import { createPaint, formatTable, shouldColor, visibleLength } from './terminal-style.js'

const terminal = { isTTY: true, hasColors: () => true }
const pipe = { isTTY: false }

describe('shouldColor', () => {
  it('colours a terminal that has colours, never a pipe', () => {
    expect(shouldColor(terminal, {})).toBe(true)
    expect(shouldColor({ isTTY: true, hasColors: () => false }, {})).toBe(false)
    expect(shouldColor(pipe, {})).toBe(false)
  })

  it('never colours with NO_COLOR set, even with FORCE_COLOR; an empty NO_COLOR is unset', () => {
    expect(shouldColor(terminal, { NO_COLOR: '1' })).toBe(false)
    expect(shouldColor(pipe, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false)
    expect(shouldColor(terminal, { NO_COLOR: '' })).toBe(true)
  })

  it('colours a pipe with FORCE_COLOR, unless it is 0 or false', () => {
    expect(shouldColor(pipe, { FORCE_COLOR: '1' })).toBe(true)
    expect(shouldColor(pipe, { FORCE_COLOR: '0' })).toBe(false)
    expect(shouldColor(pipe, { FORCE_COLOR: 'false' })).toBe(false)
  })
})

describe('formatTable', () => {
  it('aligns columns by their visible width, colour codes left out', () => {
    const paint = createPaint(true)
    const lines = formatTable([
      ['a', paint.red('bb'), 'last'],
      ['ccc', 'd', 'x'],
    ])
    expect(lines.map(visibleLength)).toEqual([13, 10])
    expect(lines[1]).toBe('ccc  d   x')
  })

  it('leaves text as it is when colour is off', () => {
    expect(createPaint(false).green('ok')).toBe('ok')
  })
})
