/** What `prompt-release init` writes: one example boolean signal with fixtures. */

export const EXAMPLE_ID = 'price-change';

export const EXAMPLE_PROMPT = `# The draft of the prompt "price-change". Edit this file, then freeze it with
#   prompt-release commit price-change -m "what changed"
id: price-change
description: Does a supplier email announce a change to the prices we pay?
model:
  provider: openai
  name: gpt-4o-mini
  temperature: 0
  maxTokens: 64
inputs:
  subject:
    type: string
    description: The email's subject line.
  body:
    type: string
    description: The email's body as plain text.
instructions: |
  You read emails that suppliers send to our purchasing team.
  Decide whether the email announces a change to the prices we pay: a price increase or decrease,
  a new price list, or a new surcharge. Quotes we asked for and invoices are not price changes.
template: |
  Subject: {{subject}}

  {{body}}
output:
  type: boolean
  description: true when the email announces a price change
limitations: |
  Sees only the subject and the plain-text body: a price list in an attachment that the body does
  not mention is missed. One email at a time; no knowledge of previous prices.
`;

export const EXAMPLE_FIXTURES: Record<string, string> = {
	'price-increase': `id: price-increase
inputs:
  subject: Price adjustment from 1 March
  body: |
    Dear customer,
    due to higher raw material costs we will apply a price increase of 4% on all items from 1 March.
    Kind regards, Nordic Steel Supplies
expected: true
segment: announcement
source: manual
note: A plain announcement of a price increase.
`,
	'new-price-list': `id: new-price-list
inputs:
  subject: Our 2026 catalogue
  body: |
    Hello,
    please find attached our new price list, valid from January.
    Best regards, Alder Packaging
expected: true
segment: price-list
source: manual
`,
	'delivery-update': `id: delivery-update
inputs:
  subject: Delivery update for order 4411
  body: |
    Hi,
    your order 4411 leaves our warehouse on Thursday. Prices and quantities are as confirmed.
    Thanks, Alder Packaging
expected: false
segment: logistics
source: manual
note: Mentions prices, but nothing changes.
`,
};

export const EXAMPLE_README = `# Prompt registry

This folder is a prompt-release registry: one folder per prompt (\`prompt.yaml\` is the editable draft,
\`versions/\` the frozen, content-hashed versions, \`fixtures/\` the regression cases, \`releases.yaml\` the
channel pointers and their history, \`runs/\` the stored test runs). Try:

    prompt-release validate
    prompt-release commit price-change -m "first version"
    prompt-release test price-change
    prompt-release release price-change --version 1
`;
